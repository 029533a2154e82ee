import json

import pytest

from overclaim.errors import (
    BinaryInputError,
    EmptyFieldError,
    EncodingError,
    FileNotFound,
    MalformedInputError,
    UnknownFormatError,
    WrongTypeError,
)
from overclaim.readers import post_from_record, read_post, read_posts


def write(tmp_path, name, data):
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def test_text_file_first_nonempty_line_is_headline(tmp_path):
    post = read_post(write(tmp_path, "p.txt", "\n\n  Big news today \nFirst line of body.\nSecond line.\n"))
    assert post.headline == "Big news today"
    assert post.body == "First line of body.\nSecond line."


def test_json_object_with_metadata(tmp_path):
    rec = {"headline": "H", "body": "B text", "id": 7, "url": "https://example.org/a", "outlet": "Example"}
    post = read_post(write(tmp_path, "p.json", json.dumps(rec)))
    assert (post.headline, post.body, post.id, post.url, post.outlet) == ("H", "B text", "7", rec["url"], "Example")


def test_jsonl_and_csv_with_mapping(tmp_path):
    posts = read_posts(write(tmp_path, "p.jsonl", '{"headline":"a","body":"b"}\n\n{"headline":"c","body":"d"}\n'))
    assert [p.headline for p in posts] == ["a", "c"]
    csv_path = write(tmp_path, "p.csv", 'title,text\n"One, two","Body one"\nThree,Body three\n')
    posts = read_posts(csv_path, mapping={"headline": "title", "body": "text"})
    assert [(p.headline, p.body) for p in posts] == [("One, two", "Body one"), ("Three", "Body three")]


def test_html_page_extracts_title_and_main_text(tmp_path):
    html = (
        "<html><head><title>Storm hits the coast</title></head><body><nav>Home | News</nav>"
        "<article><h1>Storm hits the coast</h1>"
        + "".join(
            f"<p>The storm brought heavy rain and strong winds to the coast on day {i}, officials said.</p>"
            for i in range(6)
        )
        + "</article><footer>Copyright</footer></body></html>"
    )
    post = read_post(write(tmp_path, "page.html", html))
    assert post.headline == "Storm hits the coast"
    assert "heavy rain" in post.body and "Copyright" not in post.body


@pytest.mark.parametrize(
    "name, data, error, where",
    [
        ("empty.txt", "   \n", EmptyFieldError, "empty.txt"),
        ("nobody.txt", "Only a headline\n", EmptyFieldError, "line 2, field 'body'"),
        ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", BinaryInputError, "binary"),
        ("latin.txt", "Caf\xe9 news\nbody".encode("latin-1"), EncodingError, "not valid UTF-8"),
        ("p.docx", "whatever", UnknownFormatError, "unknown format '.docx'"),
        ("bad.json", '{"headline": "x", ', MalformedInputError, "invalid JSON"),
        ("nohead.json", '{"body": "text"}', EmptyFieldError, "field 'headline'"),
        ("num.json", '{"headline": 5, "body": "text"}', WrongTypeError, "field 'headline'"),
        ("lines.jsonl", '{"headline":"a","body":"b"}\n{"headline":"a"\n', MalformedInputError, "line 2"),
        ("p.csv", "title,text\nA,B\n", MalformedInputError, "no column 'headline'"),
    ],
)
def test_bad_input_gets_one_line_error_naming_the_problem(tmp_path, name, data, error, where):
    path = write(tmp_path, name, data)
    with pytest.raises(error) as info:
        read_posts(path)
    message = str(info.value)
    assert "\n" not in message
    assert name in message and where in message


def test_missing_file():
    with pytest.raises(FileNotFound):
        read_post("/no/such/file.txt")


@pytest.mark.parametrize("record", [[1, 2], "text", None])
def test_record_must_be_an_object(record):
    with pytest.raises(MalformedInputError):
        post_from_record(record, source="x.jsonl", line=3)
