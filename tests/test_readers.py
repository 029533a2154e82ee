import html as html_lib
import json
from pathlib import Path

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


# --- HTML article pages (issue 22): the headline's <h1> copy is not body text; metadata is read ---

SEED = Path(__file__).resolve().parents[1] / "examples" / "seed_post.txt"


def seed_page(*, head: str = "", title: str | None = None) -> str:
    """The seed post as an article page: headline in <title> and <h1>, paragraphs in <article><p>."""
    lines = [line for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    headline, paragraphs = lines[0], lines[1:]
    e = html_lib.escape
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{e(title or headline)}</title>{head}</head>'
        f"<body><nav>Home | World</nav><article><h1>{e(headline)}</h1>"
        + "".join(f"<p>{e(p)}</p>" for p in paragraphs)
        + "</article><footer>Copyright 2025</footer></body></html>"
    )


SITE_META = (
    '<meta property="og:site_name" content="The Example Post">'
    '<link rel="canonical" href="https://news.example/2025/05/cartels">'
    '<meta property="article:published_time" content="2025-05-12T10:00:00Z">'
)


def test_html_page_reads_as_the_same_post_as_plain_text(tmp_path):
    text_post = read_post(SEED)
    page = read_post(write(tmp_path, "seed.html", seed_page(head=SITE_META)))
    assert page.headline == text_post.headline
    assert page.body == text_post.body  # the <h1> copy of the headline is not in the body
    assert not page.body.startswith(text_post.headline)
    assert (page.outlet, page.published, page.url) == (
        "The Example Post", "2025-05-12", "https://news.example/2025/05/cartels")


def test_title_with_the_outlet_after_it_still_drops_the_h1_copy(tmp_path):
    text_post = read_post(SEED)
    page = read_post(write(tmp_path, "seed.html", seed_page(title=f"{text_post.headline} | The Example Post")))
    assert page.body == text_post.body


def test_outlet_and_date_from_json_ld_publisher(tmp_path):
    ld = json.dumps({
        "@context": "https://schema.org", "@type": "NewsArticle", "headline": "Storm hits the coast",
        "datePublished": "2024-03-01T08:00:00Z", "publisher": {"@type": "Organization", "name": "Daily Bugle"},
    })
    body = "".join(f"<p>The storm brought heavy rain to the coast on day {i}, officials said.</p>" for i in range(6))
    html = (f'<html><head><title>Storm hits the coast</title><script type="application/ld+json">{ld}</script>'
            f"</head><body><article><h1>Storm hits the coast</h1>{body}</article></body></html>")
    post = read_post(write(tmp_path, "p.html", html))
    assert (post.headline, post.outlet, post.published) == ("Storm hits the coast", "Daily Bugle", "2024-03-01")
    assert post.body.startswith("The storm brought heavy rain")


@pytest.mark.parametrize(
    "paragraphs, kept_first",
    [
        # the headline's words open the first paragraph, as a sentence: not a copy
        (["Storm hits the coast as thousands flee their homes, officials said on Monday."],
         "Storm hits the coast as thousands flee"),
        # the headline recurs later in the article (a quoted banner): only a leading copy goes
        (["Residents read the banner in the square.", "Storm hits the coast"], "Residents read the banner"),
    ],
)
def test_only_a_leading_copy_of_the_headline_leaves_the_body(tmp_path, paragraphs, kept_first):
    filler = [f"The storm brought heavy rain and winds to the coast on day {i}, officials said." for i in range(5)]
    ps = paragraphs[:1] + filler + paragraphs[1:]
    html = ("<html><head><title>Storm hits the coast</title></head><body><article><h1>Storm hits the coast</h1>"
            + "".join(f"<p>{p}</p>" for p in ps) + "</article></body></html>")
    post = read_post(write(tmp_path, "p.html", html))
    assert post.body.startswith(kept_first)
    assert post.body.count("Storm hits the coast") == sum(p.count("Storm hits the coast") for p in paragraphs)


CAPTION = "Vaccines cause autism, new study proves!"


def social_page(og_type: str | None, title: str, h1: str = "") -> str:
    kind = f'<meta property="og:type" content="{og_type}">' if og_type else ""
    text = "".join(f"<p>The storm brought heavy rain to the coast on day {i}, officials said.</p>" for i in range(6))
    return (f"<html><head><title>{title}</title>{kind}"
            '<meta property="og:site_name" content="Instagram">'
            '<meta property="og:description" content="Vaccines cause autism, new study proves!">'
            f"</head><body>{h1}<div>{text}</div></body></html>")


@pytest.mark.parametrize(
    "html, headline",
    [
        (social_page(None, "Instagram"), "Vaccines cause autism, new study proves!"),
        (social_page("article", "Instagram"), "Vaccines cause autism, new study proves!"),  # titled as the site
        (social_page("video.other", "Ann on Instagram"), "Vaccines cause autism, new study proves!"),
        # an article page with a headline keeps it, its og:description is a summary
        (social_page("article", "Storm hits the coast"), "Storm hits the coast"),
        (social_page(None, "Storm hits the coast", "<h1>Storm hits the coast</h1>"), "Storm hits the coast"),
        # the site's logo in an <h1> is not an article headline
        (social_page(None, "Instagram", "<header><h1>Instagram</h1></header>"), CAPTION),
    ],
    ids=["no-og-type", "titled-as-site", "video-post", "article", "has-h1", "logo-h1"],
)
def test_social_post_page_uses_og_description_as_caption(tmp_path, html, headline):
    post = read_post(write(tmp_path, "p.html", html))
    assert post.headline == headline
    assert post.outlet == "Instagram"
    assert "heavy rain" in post.body


def test_html_seed_page_gets_the_same_report_as_plain_text(tmp_path, checker):
    """Issue 22: as HTML the headline was its own top evidence (relevance 1.00), disguised words twice."""
    text_report = checker.check_post(read_post(SEED))
    page_report = checker.check_post(read_post(write(tmp_path, "seed.html", seed_page(head=SITE_META))))
    assert page_report.verdict.label == text_report.verdict.label
    assert page_report.verdict.score == pytest.approx(text_report.verdict.score)
    assert [r.code for r in page_report.verdict.reasons] == [r.code for r in text_report.verdict.reasons]
    assert [(e.span.text, e.relevance) for e in page_report.evidence] == [
        (e.span.text, e.relevance) for e in text_report.evidence
    ]
    assert all(e.span.text.strip() != text_report.post.headline for e in page_report.evidence)
    disguised = [(d.span.field, d.original, d.clean) for d in page_report.normalization.disguised_words]
    assert disguised == [(d.span.field, d.original, d.clean) for d in text_report.normalization.disguised_words]
    assert page_report.post.outlet == "The Example Post"
