import os

import pytest

import overclaim
from overclaim.errors import NotFoundError, StoreError
from overclaim.store.reports import ReportStore

POSTS = [
    ("Air strikes will soon begin against cartels",
     "Officials are evaluating plans for strikes against cartels, sources said."),
    ("City council approves new budget",
     "The city council voted 7-2 on Tuesday to approve the new budget for next year."),
]


@pytest.fixture(scope="module")
def reports():
    return [overclaim.check(h, b, id=f"p{i}") for i, (h, b) in enumerate(POSTS)]


def _targets(tmp_path):
    targets = [str(tmp_path / "reports.sqlite")]
    if os.environ.get("OVERCLAIM_TEST_PG_URL"):
        targets.append(os.environ["OVERCLAIM_TEST_PG_URL"])
    return targets


def test_add_and_get_round_trip(tmp_path, reports):
    for target in _targets(tmp_path):
        store = ReportStore(target)
        ids = store.add_many(reports)
        assert len(ids) == len(set(ids)) == 2
        for report_id, report in zip(ids, reports, strict=True):
            assert store.get(report_id) == report
        one = store.add(reports[0])
        assert one not in ids
        assert store.get(one).post.id == "p0"


def test_add_many_empty(tmp_path):
    assert ReportStore(str(tmp_path / "r.sqlite")).add_many([]) == []


def test_store_persists_across_instances(tmp_path, reports):
    path = str(tmp_path / "persist.sqlite")
    report_id = ReportStore(path).add(reports[1])
    again = ReportStore(path)
    assert again.get(report_id).verdict == reports[1].verdict
    assert len(again) == 1


@pytest.mark.parametrize("bad_id", ["0" * 32, "nothex", "", "../../etc/passwd", "A" * 32, "f" * 500])
def test_unknown_id_is_not_found(tmp_path, bad_id):
    with pytest.raises(NotFoundError) as err:
        ReportStore(str(tmp_path / "r.sqlite")).get(bad_id)
    assert err.value.http_status == 404
    assert "no report with id" in str(err.value)


def test_unwritable_database_is_a_store_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError):
        ReportStore(str(blocker / "sub" / "r.sqlite"))
