"""Database set-up shared by the stores."""

import threading

from overclaim.store.factchecks import FactCheckStore
from overclaim.store.reports import ReportStore


def _open_together(path: str, classes: list[type]) -> list[Exception]:
    """Open one store of each class on ``path`` from threads released at the same moment."""
    barrier = threading.Barrier(len(classes))
    errors: list[Exception] = []

    def open_store(cls: type) -> None:
        barrier.wait()
        try:
            cls(path)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=open_store, args=(cls,)) for cls in classes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_stores_opened_together_on_a_new_database_all_set_up(tmp_path):
    # serve --processes N opens the stores in every check process at once; create_all's
    # check-then-create used to fail all but one of them with "table ... already exists".
    for trial in range(5):
        path = str(tmp_path / f"new{trial}.sqlite")
        assert _open_together(path, [FactCheckStore, ReportStore] * 3) == []
        assert len(ReportStore(path)) == 0 and len(FactCheckStore(path)) == 0
