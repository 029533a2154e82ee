"""Shared, lazily loaded resources: lexicons, word frequencies, model artifacts.

Nothing here touches the network: lexicons and trained models ship inside the
package (``overclaim/lexicons``, ``overclaim/artifacts``); word frequencies come
from the ``wordfreq`` package's bundled data.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from overclaim.errors import ModelError

PACKAGE_ROOT = Path(__file__).resolve().parent
LEXICON_DIR = PACKAGE_ROOT / "lexicons"
ARTIFACT_DIR = PACKAGE_ROOT / "artifacts"


@cache
def lexicon(name: str) -> tuple[str, ...]:
    """Entries of ``lexicons/<name>.txt``: one a line, ``#`` starts a comment, blank lines skipped."""
    path = LEXICON_DIR / f"{name}.txt"
    if not path.exists():
        raise ModelError(f"lexicon '{name}' is missing from the package ({path})")
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if entry:
            entries.append(entry)
    return tuple(entries)


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    from wordfreq import get_frequency_dict

    return get_frequency_dict("en", wordlist="large")


def word_frequency(word: str) -> float:
    """Frequency of ``word`` (lower-cased) in English, 0.0 when unknown (wordfreq 'large' list)."""
    return _frequencies().get(word.lower(), 0.0)


def zipf(word: str) -> float:
    """Zipf frequency (log10 per billion words) of ``word``; 0.0 when unknown. 'the' is about 7.7."""
    import math

    f = word_frequency(word)
    return math.log10(f * 1e9) if f > 0 else 0.0


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def stem(word: str) -> str:
    """Snowball (Porter2) stem of a lower-cased word."""
    return str(_stemmer().stemWord(word))


def artifact_dir(name: str) -> Path:
    """Folder of the trained artifact ``name`` inside the package."""
    return ARTIFACT_DIR / name


@cache
def load_artifact(name: str, filename: str = "model.joblib") -> Any:
    """Load a trained model artifact (joblib) once per process.

    Raises:
        ModelError: the artifact is missing; ``overclaim train <name>`` rebuilds it.
    """
    import joblib

    path = artifact_dir(name) / filename
    if not path.exists():
        raise ModelError(f"model '{name}' is not built ({path}); run `overclaim train {name}`")
    try:
        return joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a broken artifact
        raise ModelError(f"model '{name}' cannot be loaded from {path}: {exc}") from exc


def model_card(name: str) -> dict[str, Any]:
    """The model card (``card.json``) of artifact ``name``; empty when absent."""
    path = artifact_dir(name) / "card.json"
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def package_file(*parts: str) -> str:
    """Text of a data file shipped in the package."""
    return resources.files("overclaim").joinpath(*parts).read_text(encoding="utf-8")
