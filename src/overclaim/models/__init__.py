"""Inference-time model code (no training code, no torch): the stages load models from here."""
