"""Near duplicates of claims: MinHash signatures of word-pair shingles and their LSH band keys."""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


# --- near duplicates: MinHash LSH ------------------------------------------------------

# 32 permutations in 8 bands of 4 rows: a record becomes a near-duplicate candidate with
# probability 0.98 at Jaccard 0.8, 0.67 at 0.6 and 0.18 at 0.4 (shingles: word pairs of
# the de-obfuscated, case-folded text). Word pairs rather than character 5-grams: six times
# fewer hashes a record, so imports keep their speed.
NUM_PERM = 32
LSH_BANDS = 8
LSH_ROWS = 4
SHINGLE_WORDS = 2
MINHASH_SEED = 1
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_PERMS: tuple[np.ndarray, np.ndarray] | None = None


def shingle_text(text: str) -> str:
    """Text as shingled for near-duplicate search: NFKC, case-folded, words joined by single spaces."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


_PAIR_MULT = 0x9E3779B1  # odd multiplier (golden ratio) that mixes the first word of a pair


def shingle_hashes(text: str) -> list[int]:
    """32-bit hashes of the word pairs of :func:`shingle_text`: ``(crc32(w1) * 0x9E3779B1 + crc32(w2)) mod 2**32``.

    A one-word text has its word's crc32, an empty text ``[0]``. This is the reference for the
    vectorized :func:`minhash_signatures`.
    """
    words = [zlib.crc32(w) for w in shingle_text(text).encode("utf-8").split()]
    if len(words) < SHINGLE_WORDS:
        return [words[0] if words else 0]
    return [(w1 * _PAIR_MULT + w2) & 0xFFFFFFFF for w1, w2 in zip(words, words[1:], strict=False)]


def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The datasketch affine32 permutation parameters ``(a, b)`` for NUM_PERM and MINHASH_SEED."""
    global _PERMS
    if _PERMS is None:
        from datasketch import MinHash

        a, b = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED, hashfunc=int, scheme="affine32").permutations
        _PERMS = (a, b)
    return _PERMS


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the pre-mix datasketch applies in its affine32 scheme)."""
    import numpy as np

    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


def minhash_signatures(texts: Iterable[str], chunk: int = 2000) -> np.ndarray:
    """MinHash signatures of many texts, shape ``(n, NUM_PERM)``, computed at once with numpy.

    The values equal datasketch's ``MinHash(num_perm=32, seed=1, hashfunc=int)`` updated with
    :func:`shingle_hashes` (building one ``MinHash`` a text is far slower). Only the word
    hashing runs a text at a time; pairs, permutations and minima are array operations.
    """
    import numpy as np

    a, b = _permutations()
    texts = list(texts)
    out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
    crc = zlib.crc32
    for start in range(0, len(texts), chunk):
        part = texts[start : start + chunk]
        word_hashes: list[int] = []
        counts = np.empty(len(part), dtype=np.int64)
        for i, text in enumerate(part):
            words = shingle_text(text).encode("utf-8").split()
            counts[i] = len(words)
            word_hashes.extend(map(crc, words))
        w = np.asarray(word_hashes, dtype=np.uint32)
        tid = np.repeat(np.arange(len(part)), counts)
        same = tid[:-1] == tid[1:]
        pairs = w[:-1][same] * np.uint32(_PAIR_MULT) + w[1:][same]
        pair_tid = tid[:-1][same]
        # Texts of fewer than two words: their one word's hash, or 0 when empty.
        short = np.flatnonzero(counts < SHINGLE_WORDS)
        firsts = np.cumsum(counts) - counts
        singles = np.zeros(len(short), dtype=np.uint32)
        has_word = counts[short] > 0
        singles[has_word] = w[firsts[short][has_word]]
        values = np.concatenate((pairs, singles))
        owner = np.concatenate((pair_tid, short))
        order = np.argsort(owner, kind="stable")
        hv = _fmix32(values[order])[:, None]
        phv = a * hv + b  # uint32 arithmetic wraps: the affine map modulo 2**32
        offsets = np.concatenate(([0], np.cumsum(np.maximum(counts - 1, 1))[:-1]))
        out[start : start + len(part)] = np.minimum.reduceat(phv, offsets, axis=0)
    return out


def lsh_keys(signatures: np.ndarray) -> np.ndarray:
    """LSH band keys, shape ``(n, LSH_BANDS)``, signed 64-bit: one hash of each band's rows."""
    import numpy as np

    sig = signatures.reshape(len(signatures), LSH_BANDS, LSH_ROWS).astype(np.uint64)
    key: Any = np.zeros((len(signatures), LSH_BANDS), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(LSH_ROWS):
            key = key * np.uint64(1_000_003) + sig[:, :, r]
        key = key * np.uint64(31) + np.arange(LSH_BANDS, dtype=np.uint64)
        key ^= key >> np.uint64(29)
        key *= np.uint64(0xBF58476D1CE4E5B9)
        key ^= key >> np.uint64(32)
    return key.view(np.int64)


def estimated_jaccard(one: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Jaccard similarity estimated from MinHash signatures: one against each row of ``others``."""
    import numpy as np

    return np.asarray((others == one[None, :]).mean(axis=1), dtype=np.float64)
