"""Verdict model training helpers: the rewrites say what they claim, the feature cache reuses only what it may."""

from __future__ import annotations

import random

import numpy as np

from overclaim.models.verdict import FEATURES
from overclaim.training import verdict_model as vm


def test_rewrites_change_what_their_label_says() -> None:
    tripled = vm._number_rewrite("Man loses 90 pounds in 3 months", "He lost 90 pounds")
    assert tripled == "Man loses 270 pounds in 3 months"
    assert vm._number_rewrite("Man loses weight", "He lost 90 pounds") is None
    assert vm._negation_rewrite("Apple will release a gold watch") == "Apple will not release a gold watch"
    assert vm._negation_rewrite("Man eats spider") is None
    assert vm._causal_rewrite("Smoking was associated with lung cancer.") == "Smoking causes lung cancer."
    hedged = vm._hedge_rewrite("ISIS beheads journalist!", random.Random(1))
    assert "ISIS beheads journalist" in hedged and hedged != "ISIS beheads journalist!"
    body = vm._debunk_body("Apple will release a gold iPhone", random.Random(3))
    assert body.count("Apple will release a gold iPhone") == 2  # two refutations of the claim itself


def test_the_feature_cache_reuses_rows_of_the_same_posts_and_pipeline(tmp_path, monkeypatch) -> None:
    examples = [vm.Example(f"headline {i}", f"body {i}", "supported", "fnc", f"g{i}") for i in range(4)]
    calls: list[int] = []

    def compute(todo):
        calls.append(len(todo))
        x = np.asarray([[float(e.headline.split()[1])] * len(FEATURES) for e in todo])
        return x, np.ones(len(todo), dtype=bool)

    stored = tmp_path / "default.npz"
    monkeypatch.setattr(vm, "pipeline_fingerprint", lambda profile: "one")
    x1, _ = vm._cached_features(examples[:3], "default", stored, compute)
    x2, _ = vm._cached_features(examples, "default", stored, compute)  # one new post
    assert calls == [3, 1]
    assert np.array_equal(x2[:3], x1) and x2[3, 0] == 3.0
    monkeypatch.setattr(vm, "pipeline_fingerprint", lambda profile: "two")  # a model changed
    vm._cached_features(examples, "default", stored, compute)
    assert calls == [3, 1, 4]


def test_the_group_split_keeps_groups_whole() -> None:
    examples = [vm.Example("h", f"b{i}", "supported", "fnc", f"g{i // 3}") for i in range(60)]
    valid = vm._group_split(examples, 0.2, 13)
    by_group: dict[str, set[bool]] = {}
    for e, v in zip(examples, valid, strict=True):
        by_group.setdefault(e.group, set()).add(bool(v))
    assert all(len(sides) == 1 for sides in by_group.values())
    assert 0 < valid.sum() < len(examples)
