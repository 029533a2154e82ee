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


# The file a trained model is kept in: a pickle (protocol 5) compressed with zlib, read with the C
# unpickler. joblib's reader unpickles in pure Python: the stance model took 0.80 s of CPU to load
# that way and takes 0.10 s this way (2026-12-08, same object); the models load at every start.
MODEL_FILE = "model.pkl.zlib"
# The file older builds kept their model in (joblib); still read when a folder has no MODEL_FILE.
LEGACY_MODEL_FILE = "model.joblib"


def save_model(model: Any, folder: str | Path) -> Path:
    """Write ``model`` into ``folder`` as :data:`MODEL_FILE` (atomically) and return the file's path."""
    import os
    import pickle
    import zlib

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(zlib.compress(pickle.dumps(model, protocol=5), 6))
    os.replace(partial, path)
    legacy = folder / LEGACY_MODEL_FILE
    if legacy.exists():  # one model a folder: a stale joblib copy would only confuse
        legacy.unlink()
    return path


def load_model(folder: str | Path, name: str | None = None) -> Any:
    """Read the model kept in ``folder`` (:data:`MODEL_FILE`, or an older build's ``model.joblib``).

    Raises:
        ModelError: no model in the folder, or it cannot be read; ``overclaim train <name>`` rebuilds it.
    """
    import pickle
    import zlib

    folder = Path(folder)
    label = name or folder.name
    path = folder / MODEL_FILE
    try:
        if path.exists():
            return pickle.loads(zlib.decompress(path.read_bytes()))
        legacy = folder / LEGACY_MODEL_FILE
        if legacy.exists():
            import joblib

            path = legacy
            return joblib.load(legacy)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means a broken artifact
        raise ModelError(f"model '{label}' cannot be loaded from {path}: {exc}") from exc
    raise ModelError(f"model '{label}' is not built ({path}); run `overclaim train {label}`")


@cache
def load_artifact(name: str) -> Any:
    """Load the trained model artifact ``name`` shipped in the package, once per process.

    Raises:
        ModelError: the artifact is missing or broken; ``overclaim train <name>`` rebuilds it.
    """
    return load_model(artifact_dir(name), name)


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
