import json

import jsonschema
import pytest

from tests.conftest import SEED_POST


def test_seed_post_json_validates_against_published_schema(run_cli):
    code, out, _ = run_cli("schema")
    assert code == 0
    schema = json.loads(out)
    code, out, err = run_cli("check", str(SEED_POST), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    jsonschema.Draft202012Validator(schema).validate(report)
    assert report["post"]["headline"].startswith("🚨Update:")


def test_headline_and_body_options_and_stdin_agree(run_cli):
    text = SEED_POST.read_text(encoding="utf-8")
    headline, body = text.split("\n", 1)
    _, by_file, _ = run_cli("check", str(SEED_POST), "-f", "json")
    _, by_stdin, _ = run_cli("check", "-", "-f", "json", stdin=text)
    _, by_options, _ = run_cli("check", "--headline", headline, "--body", body, "-f", "json")
    labels = {json.loads(x)["verdict"]["label"] for x in (by_file, by_stdin, by_options)}
    assert len(labels) == 1


@pytest.mark.parametrize("fmt, needle", [("markdown", "**Verdict:"), ("terminal", "overclaim score")])
def test_other_formats_render_the_verdict(run_cli, tmp_path, fmt, needle):
    out_file = tmp_path / "report.out"
    code, _, _ = run_cli("check", str(SEED_POST), "-f", fmt, "-o", str(out_file))
    assert code == 0
    assert needle in out_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "setup, args, needle",
    [
        (None, ["check", "missing.txt"], "no such file"),
        (("empty.txt", b""), ["check", "{path}"], "is empty"),
        (("h.txt", b"Headline only\n"), ["check", "{path}"], "field 'body'"),
        (("bin.txt", b"\x00\x01\x02binary"), ["check", "{path}"], "binary"),
        (("l1.txt", b"Caf\xe9\nbody"), ["check", "{path}"], "not valid UTF-8"),
        (("x.pdf", b"%PDF-1.4"), ["check", "{path}"], "unknown format"),
        (None, ["check", "--headline", " ", "--body", "text"], "--headline"),
        (None, ["check"], "give a post file"),
    ],
)
def test_bad_input_exits_2_with_one_line(run_cli, tmp_path, monkeypatch, setup, args, needle):
    monkeypatch.chdir(tmp_path)
    path = ""
    if setup:
        name, data = setup
        (tmp_path / name).write_bytes(data)
        path = name
    code, out, err = run_cli(*[a.format(path=path) for a in args])
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("overclaim: error:")
    assert needle in lines[0]


def test_profile_option_chooses_the_models(run_cli, tmp_path):
    post = tmp_path / "post.txt"
    post.write_text(
        "Council bans plastic bags\nThe city council voted on Thursday to ban plastic bags from all shops, "
        "the mayor said, and the ban starts in May after a public consultation.\n",
        encoding="utf-8",
    )
    outputs = {}
    for profile in ("default", "fast"):
        code, out, err = run_cli("check", str(post), "--format", "json", "--profile", profile)
        assert code == 0, err
        outputs[profile] = json.loads(out)
    assert any(e.get("entailment") for e in outputs["default"]["evidence"])
    assert all(e.get("entailment") is None for e in outputs["fast"]["evidence"])
    assert outputs["default"]["claim_strength"] is not None and outputs["fast"]["claim_strength"] is None
    code, _, err = run_cli("check", str(post), "--profile", "slow")
    assert code == 2 and "slow" in err


def test_version_option_names_every_shipped_model_with_its_date(run_cli):
    from overclaim.resources import ARTIFACT_DIR

    code, out, _ = run_cli("--version")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("overclaim ")
    shipped = sorted(p.name for p in ARTIFACT_DIR.iterdir() if (p / "card.json").exists())
    for name in shipped:
        line = next(line for line in lines if line.strip().startswith(f"model {name}:"))
        assert "unknown" not in line and "built 20" in line, line
    code2, out2, _ = run_cli("version")
    assert code2 == 0 and out2 == out


@pytest.mark.parametrize("command", [["check", "-H", "Council approves budget", "-B", "The council approved it."],
                                     ["batch", "IN", "--out", "OUT"]])
def test_a_missing_factcheck_store_is_an_error_not_an_empty_store(run_cli, tmp_path, command):
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"headline": "Council approves budget", "body": "The council approved it on Tuesday."}\n')
    missing = tmp_path / "nowhere.sqlite"
    args = [str(posts) if a == "IN" else str(tmp_path / "out.jsonl") if a == "OUT" else a for a in command]
    code, _, err = run_cli(*args, "--factchecks", str(missing))
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and str(missing) in lines[0] and "--factchecks" in lines[0]
    assert not missing.exists()


def test_several_posts_are_labelled_and_jsonl_prints_one_report_a_line(run_cli, tmp_path):
    posts = tmp_path / "two.jsonl"
    posts.write_text(
        '{"id": "a1", "headline": "Council approves budget", "body": "The council approved the budget on Tuesday."}\n'
        '{"headline": "Mayor resigns", "body": "The mayor resigned on Friday after the vote, the city said."}\n',
        encoding="utf-8",
    )
    code, out, _ = run_cli("check", str(posts), "-f", "jsonl")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2 and [json.loads(line)["post"]["id"] for line in lines] == ["a1", None]
    code, out, _ = run_cli("check", str(posts), "-f", "markdown")
    assert code == 0
    assert "── post 1 of 2 · id a1 ──" in out and "── post 2 of 2 ──" in out
    assert out.index("post 1 of 2") < out.index("post 2 of 2")


TWO_POSTS = (
    '{"id": "a1", "headline": "Council approves budget", "body": "The council approved the budget on Tuesday."}\n'
    '{"id": "b2", "headline": "Mayor resigns", "body": "The mayor resigned on Friday after the vote, the city said."}\n'
)


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_on_a_jsonl_input_prints_one_report_a_line(run_cli, tmp_path, fmt):
    posts = tmp_path / "two.jsonl"
    posts.write_text(TWO_POSTS, encoding="utf-8")
    code, out, err = run_cli("check", str(posts), "-f", fmt, "--profile", "fast")
    assert code == 0, err
    lines = out.splitlines()
    assert [json.loads(line)["post"]["id"] for line in lines] == ["a1", "b2"]
    # The same input on stdin (told from its content) prints JSON lines too.
    code, out, _ = run_cli("check", "-", "-f", fmt, "--profile", "fast", stdin=TWO_POSTS)
    assert code == 0 and [json.loads(line)["post"]["id"] for line in out.splitlines()] == ["a1", "b2"]


def test_json_on_several_csv_posts_is_still_one_array(run_cli, tmp_path):
    posts = tmp_path / "two.csv"
    posts.write_text("id,headline,body\na1,Council approves budget,The council approved the budget on Tuesday.\n"
                     "b2,Mayor resigns,\"The mayor resigned on Friday, the city said.\"\n", encoding="utf-8")
    code, out, _ = run_cli("check", str(posts), "-f", "json", "--profile", "fast")
    assert code == 0 and [r["post"]["id"] for r in json.loads(out)] == ["a1", "b2"]


def test_terminal_reports_of_several_posts_are_apart_and_labelled_with_their_ids(run_cli, tmp_path):
    posts = tmp_path / "two.jsonl"
    posts.write_text(TWO_POSTS, encoding="utf-8")
    code, out, _ = run_cli("check", str(posts), "--profile", "fast")
    assert code == 0
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "post 1 of 2 · id a1" in line)
    second = next(i for i, line in enumerate(lines) if "post 2 of 2 · id b2" in line)
    assert first == 0 and second > first + 3
    assert lines[second - 1].strip() == ""  # a blank line before the next report's label
    assert "Council approves budget" in "\n".join(lines[first:second])
    assert "Mayor resigns" in "\n".join(lines[second:])


def test_map_reads_csv_on_stdin(run_cli):
    data = ("title,text\nCouncil approves budget,The council approved the budget on Tuesday by a vote of 7-2.\n"
            "Mayor resigns,\"The mayor resigned on Friday, the city said.\"\n")
    code, out, err = run_cli("check", "-", "--map", "headline=title", "--map", "body=text", "-f", "jsonl",
                             "--profile", "fast", stdin=data)
    assert code == 0, err
    headlines = [json.loads(line)["post"]["headline"] for line in out.splitlines()]
    assert headlines == ["Council approves budget", "Mayor resigns"]  # not a text post headed "title,text"
    # JSON on stdin with --map is still JSON.
    code, out, _ = run_cli("check", "-", "--map", "headline=title", "--map", "body=text", "-f", "json",
                           "--profile", "fast",
                           stdin='{"title": "Council approves budget", "text": "The council approved it on Tuesday."}')
    assert code == 0 and json.loads(out)["post"]["headline"] == "Council approves budget"
