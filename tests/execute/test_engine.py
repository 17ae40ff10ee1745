"""The execution engine: rows recorded as units finish, one failure rule, claims, backends."""

from __future__ import annotations

import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import pytest
from execute_units import square

from instructmine import atomic
from instructmine.execute import (
    ResultsTable,
    Unit,
    UnitsFailed,
    backend_name,
    register_backend,
    run_units,
)
from instructmine.execute.backends import unregister_backend


def _units(xs):
    return [Unit(f"u{x}", (f"u{x}", x)) for x in xs]


def test_inline_records_every_finished_unit_then_names_the_failed(tmp_path):
    table = ResultsTable(tmp_path / "t.jsonl")
    with pytest.raises(UnitsFailed) as err:
        run_units(_units([1, -2, 3, -4]), square, table, what="square(s)")
    assert sorted(err.value.failed) == ["u-2", "u-4"]
    assert str(err.value).startswith("2 square(s) failed (finished ones are in ")
    assert "u-2: ValueError: negative -2; u-4: ValueError: negative -4" in str(err.value)
    assert [r["y"] for r in ResultsTable(table.path).all_rows()] == [1, 9]
    report = run_units(_units([1, 3, 5]), square, ResultsTable(table.path))
    assert (report.ran, report.reused) == (1, 2)  # resumed: only u5 ran


def test_a_torn_last_line_is_skipped_and_cut_before_the_next_row(tmp_path):
    path = tmp_path / "t.jsonl"
    run_units(_units([1]), square, ResultsTable(path))
    with open(path, "a") as fh:
        fh.write('{"key": "u2", "y"')
    table = ResultsTable(path)
    assert table.torn == 1 and table.done_keys() == {"u1"}
    run_units(_units([1, 2]), square, table)
    assert [r["key"] for r in ResultsTable(path).all_rows()] == ["u1", "u2"]


def test_setup_digest_refuses_rows_of_another_setup(tmp_path):
    path = tmp_path / "t.jsonl"
    ResultsTable(path).append({"key": "a", "setup": "one"})
    ResultsTable(path, setup="one").check_setup()
    with pytest.raises(ValueError, match="t.jsonl: trial a was run with another pool"):
        ResultsTable(path, setup="two").check_setup("trial", "another pool")


def test_a_unit_claimed_elsewhere_is_waited_for_and_taken_from_the_table(tmp_path):
    table = ResultsTable(tmp_path / "t.jsonl")
    claims = tmp_path / "claims"
    fd = atomic.claim(claims / "u2.lock")  # another shell is running u2
    out = {}
    thread = threading.Thread(
        target=lambda: out.setdefault(
            "r", run_units(_units([1, 2, 3]), square, table, claims=claims)
        )
    )
    thread.start()
    while len(ResultsTable(table.path)) < 2:
        time.sleep(0.01)
    assert thread.is_alive()  # waits for u2's holder
    ResultsTable(table.path).append({"key": "u2", "y": -1})  # the other shell's row
    import os

    os.close(fd)
    thread.join(timeout=30)
    assert (out["r"].ran, out["r"].reused) == (2, 1)
    assert ResultsTable(table.path).rows["u2"]["y"] == -1  # not run twice


def test_a_unit_whose_holder_died_unfinished_is_run_here(tmp_path):
    import os

    table = ResultsTable(tmp_path / "t.jsonl")
    fd = atomic.claim(tmp_path / "claims" / "u2.lock")
    threading.Timer(0.2, os.close, (fd,)).start()  # the holder dies without a row
    report = run_units(_units([1, 2]), square, table, claims=tmp_path / "claims")
    assert report.ran == 2 and ResultsTable(table.path).rows["u2"]["y"] == 4


class ThreadsBackend:
    """A toy backend written in the test: a thread pool."""

    def __init__(self, options):
        self.slots = options.workers
        self.submitted = []

    def __enter__(self):
        self.pool = ThreadPoolExecutor(self.slots)
        self.futures = {}
        return self

    def __exit__(self, *exc):
        self.pool.shutdown()

    def submit(self, fn, unit):
        self.submitted.append(unit.key)
        self.futures[self.pool.submit(fn, *unit.args)] = unit

    def wait(self):
        done, _ = wait(list(self.futures), return_when=FIRST_COMPLETED)
        for f in done:
            yield self.futures.pop(f), f.result


def test_a_backend_registered_in_a_test_runs_units(tmp_path):
    register_backend("threads", ThreadsBackend)
    try:
        table = ResultsTable(tmp_path / "t.jsonl")
        with pytest.raises(UnitsFailed, match="u-1"):
            run_units(_units([2, -1, 3, 4]), square, table, "threads", workers=2)
        rows = ResultsTable(table.path).rows
        assert {k: r["y"] for k, r in rows.items()} == {"u2": 4, "u3": 9, "u4": 16}
    finally:
        unregister_backend("threads")
    with pytest.raises(ValueError, match="unknown backend 'threads'; choose one of: inline"):
        run_units(_units([5]), square, table, "threads")


def test_processes_share_threads_and_give_the_inline_rows(tmp_path):
    inline = run_units(_units(range(6)), square, ResultsTable(tmp_path / "a.jsonl"))
    procs = run_units(
        _units(range(6)),
        square,
        ResultsTable(tmp_path / "b.jsonl"),
        "processes",
        workers=2,
        threads=1,
    )
    assert {r["threads"] for r in procs.rows} == {1}
    strip = lambda rows: sorted((r["key"], r["y"]) for r in rows)  # noqa: E731
    assert strip(procs.rows) == strip(inline.rows)


def test_backend_names_of_a_config():
    assert backend_name("local", 1) == "inline"
    assert backend_name("local", 3) == "processes"
    assert backend_name("ray", 3) == "ray"


def test_a_row_keyed_otherwise_than_its_unit_is_a_failure(tmp_path):
    table = ResultsTable(tmp_path / "t.jsonl")
    with pytest.raises(UnitsFailed, match=r"u1: ValueError: its row is keyed 'other'"):
        run_units([Unit("u1", ("other", 1))], square, table)
    assert len(ResultsTable(table.path)) == 0
