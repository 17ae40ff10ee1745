"""Collect finished units of work into a resumable results table, as they finish.

A driver submits every pending unit (to local worker processes or as Ray tasks) and passes
the finished ones, in the order they finish, to :func:`collect_finished`. Each result is
recorded (its row appended to the table) as soon as it arrives, so a killed driver loses only
unfinished units, which the next run submits again, and a recorded row is never run twice. A
failed unit does not stop the others: its error is noted and, once every unit has finished,
all of them are reported in one ``RuntimeError``.

:func:`finished_futures` (process-pool futures) and :func:`finished_refs` (Ray object refs)
turn what was submitted into that sequence of finished units.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

K = TypeVar("K")
R = TypeVar("R")


def finished_futures(futures: Mapping[Future, K]) -> Iterator[tuple[K, Callable[[], Any]]]:
    """``(key, result)`` for each of ``futures`` (future → key) as it finishes."""
    from concurrent.futures import as_completed

    for future in as_completed(futures):
        yield futures[future], future.result


def finished_refs(ray: Any, refs: dict[Any, K]) -> Iterator[tuple[K, Callable[[], Any]]]:
    """``(key, result)`` for each of ``refs`` (Ray object ref → key) as it finishes.

    Waits on one ref at a time with ``ray.wait``; each finished ref is taken out of ``refs``.
    """
    while refs:
        ready, _ = ray.wait(list(refs), num_returns=1)
        for ref in ready:
            yield refs.pop(ref), partial(ray.get, ref)


def collect_finished(
    finished: Iterable[tuple[K, Callable[[], R]]],
    record: Callable[[K, R], None],
    *,
    name: Callable[[K], str],
    what: str,
    table: Path | str,
) -> int:
    """Record every unit of ``finished`` that succeeded; return how many were recorded.

    ``finished`` gives ``(key, result)`` per unit in the order they finish, ``result()``
    returning the unit's value or raising its error (:func:`finished_futures`,
    :func:`finished_refs`). ``record(key, value)`` appends the unit's row to ``table`` (and
    reports progress, if wanted); it is called in the order the units finish.

    A unit whose ``result()`` raises is not recorded: once all have finished,
    ``RuntimeError`` says how many failed, ``what`` (e.g. ``"experiment(s) failed on Ray"``),
    and ``name(key): ErrorType: message`` for each. An error raised by ``record`` itself stops
    the collection at once.
    """
    ran, failed = 0, []
    for key, result in finished:
        try:
            value = result()
        except Exception as err:  # reported with the unit's name below
            failed.append(f"{name(key)}: {type(err).__name__}: {err}")
            continue
        record(key, value)
        ran += 1
    if failed:
        raise RuntimeError(
            f"{len(failed)} {what} (finished ones are in {table}; fix and run again to "
            "resume): " + "; ".join(failed)
        )
    return ran
