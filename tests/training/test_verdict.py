import json

import pytest

from overclaim.report import VERDICT_LABELS
from overclaim.training.verdict import agreement, evaluate_files, evaluate_jsonl
from tests.conftest import run_overclaim


def test_agreement_counts_each_cell():
    gold = ["supported", "overstated", "overstated", "unrelated"]
    pred = ["supported", "supported", "overstated", "unrelated"]
    result = agreement(gold, pred)
    assert result["accuracy"] == 0.75
    assert result["confusion"][1] == [1, 1, 0, 0, 0]
    assert result["f1"]["contradicted"] == 0.0
    assert result["labels"] == list(VERDICT_LABELS) and len(result["f1"]) == 5
    # Macro-F1 over the verdicts present in gold: contradicted and cannot_judge are not.
    assert result["macro_f1_labels"] == ["supported", "overstated", "unrelated"]
    f1 = result["f1"]
    assert result["macro_f1"] == round((f1["supported"] + f1["overstated"] + f1["unrelated"]) / 3, 4)
    matrix = result["confusion_matrix"]
    assert (matrix["rows"], matrix["columns"], matrix["labels"]) == ("gold", "predicted", list(VERDICT_LABELS))
    assert matrix["matrix"] == result["confusion"]


def test_agreement_scores_cannot_judge_like_any_verdict():
    gold = ["cannot_judge", "cannot_judge", "supported"]
    pred = ["cannot_judge", "unrelated", "cannot_judge"]
    result = agreement(gold, pred)
    cj = VERDICT_LABELS.index("cannot_judge")
    assert result["confusion"][cj] == [0, 0, 0, 1, 1]
    assert result["f1"]["cannot_judge"] == 0.5  # 1 hit, 1 miss, 1 false alarm
    assert result["support"]["cannot_judge"] == 2 and result["predicted"]["cannot_judge"] == 2


def test_evaluate_files_on_a_small_fnc_file(tmp_path):
    (tmp_path / "bodies.csv").write_text(
        "Body ID,articleBody\n"
        '1,"The city council approved a new budget for road repairs on Tuesday, voting 7-2 to fund the work. '
        'The budget sets aside $12 million for repaving."\n'
        '2,"Heavy rain flooded several streets in the town centre on Saturday. More storms are expected."\n',
        encoding="utf-8",
    )
    (tmp_path / "stances.csv").write_text(
        "Headline,Body ID,Stance\n"
        "City council approves budget for road repairs,1,agree\n"
        "Bitcoin price surges past record high,2,unrelated\n",
        encoding="utf-8",
    )
    result = evaluate_files(tmp_path / "stances.csv", tmp_path / "bodies.csv")
    assert result["posts"] == 2
    assert sum(map(sum, result["confusion"])) == 2
    assert result["confusion"][3][3] == 1  # the flooding body is unrelated to bitcoin


def test_eval_verdict_cli_fnc_form_takes_the_profile(monkeypatch, capsys, tmp_path):
    (tmp_path / "bodies.csv").write_text(
        'Body ID,articleBody\n2,"Heavy rain flooded several streets in the town centre on Saturday."\n',
        encoding="utf-8",
    )
    (tmp_path / "stances.csv").write_text(
        "Headline,Body ID,Stance\nBitcoin price surges past record high,2,unrelated\n", encoding="utf-8"
    )
    code, out, err = run_overclaim(
        monkeypatch, capsys, "eval", "verdict", "--stances", str(tmp_path / "stances.csv"),
        "--bodies", str(tmp_path / "bodies.csv"), "--profile", "fast", "--json",
    )
    assert code == 0, err
    result = json.loads(out)
    assert result["profile"] == "fast" and result["posts"] == 1
    assert result["mapping"]["disagree"] == "contradicted" and "cannot_judge" not in result["mapping"].values()
    assert result["macro_f1_labels"] == ["unrelated"] and result["confusion_matrix"]["rows"] == "gold"


def test_evaluate_files_names_a_missing_file(tmp_path):
    from overclaim.errors import OverclaimError

    with pytest.raises(OverclaimError):
        evaluate_files(tmp_path / "nope.csv", tmp_path / "nope_bodies.csv")


# --- eval verdict --data FILE.jsonl ---------------------------------------------------------

COUNCIL_BODY = (
    "The city council approved a new budget for road repairs on Tuesday, voting 7-2 to fund the work. "
    "The budget sets aside $12 million for repaving."
)
FLOOD_BODY = "Heavy rain flooded several streets in the town centre on Saturday. More storms are expected."
GOLD_POSTS = [
    {"id": "council", "headline": "City council approves budget for road repairs", "body": COUNCIL_BODY,
     "gold": "supported"},
    # The body is about a flood: unrelated to the headline whatever the models say.
    {"id": "bitcoin", "headline": "Bitcoin price surges past record high", "body": FLOOD_BODY, "gold": "unrelated"},
    {"headline": "Council rejects road repair budget", "body": COUNCIL_BODY, "gold": "contradicted"},
    {"id": 7, "headline": "El alcalde anuncia nuevos impuestos",
     "body": "El alcalde dijo el martes que el ayuntamiento estudia varias opciones.", "gold": "cannot_judge"},
    {"headline": "Stocks crash", "body": "Markets.", "gold": "cannot_judge"},
]


def _jsonl(path, records, blank_after: int | None = None):
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    if blank_after is not None:
        lines.insert(blank_after, "")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def gold_file(tmp_path_factory):
    return _jsonl(tmp_path_factory.mktemp("verdict") / "gold.jsonl", GOLD_POSTS, blank_after=2)


@pytest.fixture(scope="module")
def gold_result(gold_file):
    return evaluate_jsonl(gold_file)


def test_evaluate_jsonl_counts_every_post_once(gold_result):
    result = gold_result
    gold_counts = {v: sum(p["gold"] == v for p in GOLD_POSTS) for v in VERDICT_LABELS}
    matrix = result["confusion_matrix"]["matrix"]
    assert result["posts"] == len(GOLD_POSTS) == sum(map(sum, matrix))
    assert {v: sum(row) for v, row in zip(VERDICT_LABELS, matrix, strict=True)} == gold_counts == result["support"]
    assert sum(result["predicted"].values()) == len(GOLD_POSTS)
    assert result["macro_f1_labels"] == [v for v in VERDICT_LABELS if gold_counts[v]]
    assert set(result["f1"]) == set(VERDICT_LABELS)
    assert 0.0 <= result["macro_f1"] <= 1.0 and 0.0 <= result["accuracy"] <= 1.0
    assert result["posts_per_second"] > 0 and result["profile"] == "default"
    unrelated = VERDICT_LABELS.index("unrelated")
    assert matrix[unrelated][unrelated] == 1  # the flooding body is about something else


def test_evaluate_jsonl_limit_and_profile(gold_file):
    result = evaluate_jsonl(gold_file, limit=2, profile="fast")
    assert result["posts"] == 2 and result["profile"] == "fast"
    assert result["support"]["supported"] == 1 and result["support"]["unrelated"] == 1


def test_eval_verdict_cli_data_json(monkeypatch, capsys, gold_file, gold_result):
    code, out, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(gold_file), "--json")
    assert code == 0, err
    result = json.loads(out)
    assert result["confusion_matrix"] == gold_result["confusion_matrix"]
    assert result["file"] == str(gold_file)


def test_eval_verdict_cli_data_text(monkeypatch, capsys, gold_file):
    code, out, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(gold_file), "--limit", "1")
    assert code == 0, err
    assert out.startswith("posts: 1 ") and "cannot_judge" in out and "rows gold, columns predicted" in out


GOOD = {"headline": "City council approves budget", "body": COUNCIL_BODY, "gold": "supported"}


@pytest.mark.parametrize(
    "bad_line, field, message",
    [
        ('{"headline": "x", "body": ', None, "is not valid JSON"),
        ('["a list"]', None, "is not a JSON object"),
        (json.dumps({"body": COUNCIL_BODY, "gold": "supported"}), "headline", "is missing"),
        (json.dumps({"headline": "A claim", "body": "   ", "gold": "supported"}), "body", "is empty"),
        (json.dumps({"headline": "A claim", "body": 5, "gold": "supported"}), "body", "must be text"),
        (json.dumps({"headline": "A claim", "body": COUNCIL_BODY}), "gold", "is missing"),
        (json.dumps({"headline": "A claim", "body": COUNCIL_BODY, "gold": "agree"}), "gold", "not a verdict"),
        (json.dumps({"headline": "A claim", "body": COUNCIL_BODY, "gold": 1}), "gold", "not a verdict"),
    ],
)
def test_eval_verdict_bad_line_is_one_line_naming_file_line_and_field(
    monkeypatch, capsys, tmp_path, bad_line, field, message
):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(GOOD) + "\n\n" + bad_line + "\n" + json.dumps(GOOD) + "\n", encoding="utf-8")
    code, out, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(path))
    assert code == 2 and out == ""
    assert err.startswith("overclaim: error: ") and err.count("\n") == 1, err
    assert f"{path}, line 3" in err and message in err
    assert (f"field '{field}'" in err) if field else ("field" not in err)


@pytest.mark.parametrize("text", ["", "\n\n"])
def test_eval_verdict_empty_file_is_a_data_error(monkeypatch, capsys, tmp_path, text):
    path = tmp_path / "empty.jsonl"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(path))
    assert code == 2 and "has no posts" in err and err.count("\n") == 1


def test_eval_verdict_missing_or_undecodable_file(monkeypatch, capsys, tmp_path):
    code, _, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(tmp_path / "nope.jsonl"))
    assert code == 2 and "nope.jsonl" in err and err.count("\n") == 1
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(json.dumps(GOOD).encode() + b"\n" + '{"headline": "Caf\u00e9"}'.encode("latin-1") + b"\n")
    code, _, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", "--data", str(latin))
    assert code == 2 and f"{latin}, line 2: is not UTF-8" in err and err.count("\n") == 1


def test_evaluate_jsonl_reads_a_file_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD).encode() + b"\n")
    assert evaluate_jsonl(path, profile="fast")["support"]["supported"] == 1


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "give --data"),
        (["--data", "g.jsonl", "--stances", "s.csv", "--bodies", "b.csv"], "not both"),
        (["--data", "g.jsonl", "--bodies", "b.csv"], "not both"),
        (["--stances", "s.csv"], "--bodies is missing"),
        (["--bodies", "b.csv"], "--stances is missing"),
    ],
)
def test_eval_verdict_takes_one_form(monkeypatch, capsys, args, message):
    code, out, err = run_overclaim(monkeypatch, capsys, "eval", "verdict", *args)
    assert code == 2 and out == ""
    assert err.startswith("overclaim: error: ") and err.count("\n") == 1 and message in err
