"""Collecting finished units: rows recorded as units finish, failures reported after the rest."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from instructmine.runners.collect import collect_finished, finished_futures, finished_refs


def _fails(message: str):
    def result():
        raise ValueError(message)

    return result


def test_records_the_finished_in_order_and_reports_failures_after_the_rest():
    finished = [("a", lambda: 1), ("b", _fails("on purpose")), ("c", lambda: 3)]
    rows = []
    with pytest.raises(RuntimeError) as err:
        collect_finished(
            finished,
            lambda k, v: rows.append((k, v)),
            name=str.upper,
            what="unit(s) failed",
            table="T.jsonl",
        )
    assert rows == [("a", 1), ("c", 3)]  # the failure did not stop the units after it
    assert str(err.value) == (
        "1 unit(s) failed (finished ones are in T.jsonl; fix and run again to resume): "
        "B: ValueError: on purpose"
    )


def test_returns_how_many_were_recorded_and_stops_when_recording_fails():
    rows = []
    units = [("a", lambda: 1), ("b", lambda: 2)]
    ran = collect_finished(units, lambda k, v: rows.append(v), name=str, what="", table="")
    assert (ran, rows) == (2, [1, 2])

    def full(key, value):
        raise OSError("disk full")

    seen = []
    units = ((k, lambda k=k: seen.append(k)) for k in "abc")
    with pytest.raises(OSError, match="disk full"):
        collect_finished(units, full, name=str, what="", table="")
    assert seen == ["a"]


def test_finished_futures_gives_each_key_once():
    with ThreadPoolExecutor(2) as pool:
        futures = {pool.submit(pow, 2, n): n for n in range(5)}
        got = {key: result() for key, result in finished_futures(futures)}
    assert got == {n: 2**n for n in range(5)}


class _FakeRay:
    """``wait``/``get`` over refs that are plain values, finishing in reverse order."""

    def __init__(self) -> None:
        self.waits = 0

    def wait(self, refs, num_returns):
        self.waits += 1
        return [refs[-1]][:num_returns], refs[:-1]

    def get(self, ref):
        return ref * 10


def test_finished_refs_waits_one_at_a_time_and_empties_refs():
    ray, refs = _FakeRay(), {1: "one", 2: "two", 3: "three"}
    got = [(key, result()) for key, result in finished_refs(ray, refs)]
    assert got == [("three", 30), ("two", 20), ("one", 10)]
    assert refs == {} and ray.waits == 3
