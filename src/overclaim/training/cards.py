"""The artifact trio every trained model ships as: its model file, ``card.json`` and ``MODEL_CARD.md``.

One way to write them, so every model's folder reads the same: the model through
:func:`overclaim.resources.save_model` (the one model-file format), the card as indented UTF-8
JSON, and the Markdown card the training module renders from the same dict.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any


def artifact_folder(card: dict[str, Any], out_dir: str | Path | None) -> Path:
    """``out_dir``, or the package's artifact folder of ``card["model"]`` when none is given."""
    from overclaim.resources import artifact_dir

    return Path(out_dir) if out_dir is not None else artifact_dir(card["model"])


def write_card(card: dict[str, Any], folder: str | Path, markdown: str) -> None:
    """Write ``card.json`` (the card) and ``MODEL_CARD.md`` (``markdown``) into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(markdown, encoding="utf-8")


def write_artifact(
    model: Any, card: dict[str, Any], out_dir: str | Path | None, markdown: Callable[[dict[str, Any]], str]
) -> Path:
    """Write the whole trio for ``card["model"]`` (into ``out_dir`` when given) and clear the load cache.

    ``markdown`` renders MODEL_CARD.md from the card once the model file is written (and its size known).

    Returns:
        The model file's path (its size is ``card["artifact_bytes"]`` where a card records it).
    """
    from overclaim.resources import load_artifact, save_model

    folder = artifact_folder(card, out_dir)
    path = save_model(model, folder)
    if "artifact_bytes" in card:
        card["artifact_bytes"] = path.stat().st_size
    write_card(card, folder, markdown(card))
    load_artifact.cache_clear()
    return path
