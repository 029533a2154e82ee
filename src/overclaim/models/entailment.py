"""Entailment cross-encoder at inference time: onnxruntime + the ``tokenizers`` library.

The artifact (``artifacts/entailment/``: ``model.onnx``, int8; ``tokenizer.json``; ``card.json``)
is built by ``overclaim train entailment`` (:mod:`overclaim.training.entailment`). It is loaded
lazily, once per process (:func:`load_entailer`), and scores (premise, hypothesis) pairs with three
probabilities in the order of :data:`LABELS`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.errors import ModelError

ARTIFACT = "entailment"
LABELS: tuple[str, ...] = ("entails", "neutral", "contradicts")
# Pairs per onnxruntime call: larger groups pad more; 32 was fastest on the FNC-1 test
# posts' evidence sentences (16: same, 64: 6% slower, measured with benchmarks/entailment_speed).
BATCH_PAIRS = 32


def configure(tokenizer: Any, max_length: int) -> Any:
    """Set truncation (longest sequence first, to ``max_length`` word pieces) and no padding."""
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length, strategy="longest_first")
    return tokenizer


def encode_pairs(tokenizer: Any, pairs: Sequence[tuple[str, str]], max_length: int) -> list[Any]:
    """Tokenizer encodings of (premise, hypothesis) pairs, truncated to ``max_length``."""
    configure(tokenizer, max_length)
    if not pairs:
        return []
    return list(tokenizer.encode_batch([(a, b) for a, b in pairs]))


def pad_batch(encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Input ids, attention mask and token types of a group of encodings, padded to the longest."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask = np.zeros_like(ids)
    types = np.zeros_like(ids)
    for row, enc in enumerate(encodings):
        n = len(enc.ids)
        ids[row, :n] = enc.ids
        mask[row, :n] = 1
        types[row, :n] = enc.type_ids
    return ids, mask, types


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class Entailer:
    """Scores (premise, hypothesis) pairs: P(entails), P(neutral), P(contradicts)."""

    def __init__(self, folder: Path, threads: int = 1) -> None:
        """Load the ONNX model and tokenizer from ``folder``.

        Args:
            folder: the artifact folder (``model.onnx``, ``tokenizer.json``, ``card.json``).
            threads: onnxruntime intra-op threads (1: the pipeline runs one post per core).

        Raises:
            ModelError: the artifact is missing or cannot be loaded.
        """
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - both are core dependencies
            raise ModelError(f"the entailment model needs onnxruntime and tokenizers ({exc})") from exc
        model, tok, card = folder / "model.onnx", folder / "tokenizer.json", folder / "card.json"
        for path in (model, tok, card):
            if not path.exists():
                raise ModelError(f"model '{ARTIFACT}' is not built ({path}); run `overclaim train {ARTIFACT}`")
        try:
            self.card: dict[str, Any] = json.loads(card.read_text(encoding="utf-8"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
            self.tokenizer = Tokenizer.from_file(str(tok))
        except Exception as exc:  # noqa: BLE001 - any load failure means a broken artifact
            raise ModelError(f"model '{ARTIFACT}' cannot be loaded from {folder}: {exc}") from exc
        self.max_length = int(self.card.get("max_length", 128))
        self._lock = threading.Lock()

    def predict(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Probabilities, one row per pair, columns in the order of :data:`LABELS`."""
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        if not pairs:
            return out
        with self._lock:  # the tokenizer's truncation setting is shared state
            encodings = encode_pairs(self.tokenizer, pairs, self.max_length)
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), BATCH_PAIRS):
            idx = order[start : start + BATCH_PAIRS]
            ids, mask, types = pad_batch([encodings[i] for i in idx])
            (logits,) = self.session.run(
                ["logits"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
            out[idx] = _softmax(np.asarray(logits, dtype=np.float32))
        return out


_LOCK = threading.Lock()
_CACHE: dict[Path, Entailer] = {}


def load_entailer(folder: Path | None = None) -> Entailer:
    """The entailment model of ``folder`` (default: the shipped artifact), loaded once per process."""
    if folder is None:
        from overclaim.resources import artifact_dir

        folder = artifact_dir(ARTIFACT)
    folder = Path(folder).resolve()
    with _LOCK:
        if folder not in _CACHE:
            _CACHE[folder] = Entailer(folder)
        return _CACHE[folder]
