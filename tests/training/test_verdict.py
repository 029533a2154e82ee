import pytest

from overclaim.training.verdict import agreement, evaluate_files


def test_agreement_counts_each_cell():
    gold = ["supported", "overstated", "overstated", "unrelated"]
    pred = ["supported", "supported", "overstated", "unrelated"]
    result = agreement(gold, pred)
    assert result["accuracy"] == 0.75
    assert result["confusion"][1] == [1, 1, 0, 0]
    assert result["f1"]["contradicted"] == 0.0


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


def test_evaluate_files_names_a_missing_file(tmp_path):
    from overclaim.errors import OverclaimError

    with pytest.raises(OverclaimError):
        evaluate_files(tmp_path / "nope.csv", tmp_path / "nope_bodies.csv")
