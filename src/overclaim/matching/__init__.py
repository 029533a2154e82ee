"""Claim matching: query text, pair and embedding features, encoders, the matcher, MinHash near duplicates."""
