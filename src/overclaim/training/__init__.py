"""Training and evaluation code, one module per model (``training/<model>.py``)."""
