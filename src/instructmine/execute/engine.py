"""``run_units``: dispatch, claim and collect — the one loop every unit-running stage uses."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from instructmine.execute.backends import BackendOptions, make_backend
from instructmine.execute.table import ResultsTable, Row
from instructmine.execute.unit import Unit, UnitsFailed, describe_error


class UnitSource(Protocol):
    """Units whose choice depends on finished ones (the size search's scheduler)."""

    def next(self) -> Unit | None:
        """The next unit to run, or None when none can be chosen until another finishes."""
        ...

    def finished(self, unit: Unit, row: Row) -> None:
        """``unit`` finished (this run, or already in the table) with ``row``."""
        ...

    def failed(self, unit: Unit) -> None:
        """``unit`` raised (it is reported at the end)."""
        ...


class _IterSource:
    """A list or a lazy iterable of units as a :class:`UnitSource`."""

    def __init__(self, units: Iterable[Unit]):
        self._it: Iterator[Unit] = iter(units)

    def next(self) -> Unit | None:
        return next(self._it, None)

    def finished(self, unit: Unit, row: Row) -> None:
        pass

    def failed(self, unit: Unit) -> None:
        pass


@dataclass
class RunReport:
    """What :func:`run_units` did: units run here, units found in the table, their rows."""

    ran: int = 0
    reused: int = 0
    rows: list[Row] = field(default_factory=list)


def claim_name(key: str) -> str:
    """A unit key as a claim file name (path separators and odd characters replaced)."""
    return re.sub(r"[^\w.:=+,-]", "_", key)


class _Claims:
    """The driver's ``flock`` claims on ``folder/<key>.lock`` (None: no claims)."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.held: dict[str, int] = {}

    def take(self, key: str, block: bool = False) -> bool:
        from instructmine import atomic

        if self.folder is None:
            return True
        fd = atomic.claim(self.folder / f"{claim_name(key)}.lock", block=block)
        if fd is None:
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {key}\n".encode())  # who runs what, for operators
        self.held[key] = fd
        return True

    def release(self, key: str) -> None:
        fd = self.held.pop(key, None)
        if fd is not None:
            os.ftruncate(fd, 0)
            os.close(fd)

    def release_all(self) -> None:
        for key in list(self.held):
            self.release(key)


def run_units(
    units: Iterable[Unit] | UnitSource,
    fn: Callable[..., Row],
    table: ResultsTable,
    backend: str = "inline",
    *,
    workers: int = 1,
    threads: int | None = None,
    ray_address: str | None = "auto",
    ray_resources: Any = None,
    in_flight: int | None = None,
    claims: Path | str | None = None,
    on_row: Callable[[Row], None] | None = None,
    what: str = "unit(s)",
) -> RunReport:
    """Run ``fn(*unit.args)`` for every unit not yet in ``table`` on ``backend``; append rows.

    Each row is appended as its unit finishes, then passed to ``on_row``. A unit already in
    the table is not run (its row goes to the source's ``finished``; counted in ``reused``).
    With ``claims`` (a folder) each unit is claimed before it is dispatched: a unit another
    process holds is waited for once everything else is done, then taken from the table (or
    run here, if its holder died without finishing it). Units that raise are reported
    together in one :class:`UnitsFailed` after every other unit has been recorded.
    """
    source = units if hasattr(units, "finished") else _IterSource(units)  # type: ignore[arg-type]
    options = BackendOptions(
        workers=workers,
        threads=threads,
        ray_address=ray_address,
        ray_resources=ray_resources,
        in_flight=in_flight,
        claims=str(claims) if claims is not None else None,
    )
    runner = make_backend(backend, options)
    slots = min(runner.slots, in_flight) if in_flight else runner.slots
    held = _Claims(Path(claims) if claims is not None else None)
    report = RunReport()
    failed: dict[str, str] = {}
    waiting: list[Unit] = []  # held by another process when we reached them
    running: dict[str, Unit] = {}

    def reuse(unit: Unit) -> bool:
        row = table.rows.get(unit.key)
        if row is None:
            return False
        report.reused += 1
        source.finished(unit, row)
        return True

    def dispatch(unit: Unit, block: bool = False) -> None:
        if unit.key in running or (unit.key in table.done_keys() and reuse(unit)):
            return
        if not held.take(unit.key, block=block):
            waiting.append(unit)
            return
        if unit.key in table.done_keys() and reuse(unit):  # finished while we waited
            held.release(unit.key)
            return
        running[unit.key] = unit
        runner.submit(fn, unit)

    try:
        with runner:
            while True:
                while len(running) < slots:
                    unit = source.next()
                    if unit is None:
                        break
                    dispatch(unit)
                if not running and waiting:
                    dispatch(waiting.pop(0), block=True)
                    continue
                if not running:
                    break
                for unit, result in runner.wait():
                    running.pop(unit.key, None)
                    try:
                        row = result()
                        if table.key_of(row) != unit.key:
                            raise ValueError(f"its row is keyed {table.key_of(row)!r}")
                    except Exception as err:  # reported with every other failure below
                        failed[unit.key] = describe_error(err)
                        held.release(unit.key)
                        source.failed(unit)
                        continue
                    table.append(row)
                    held.release(unit.key)
                    report.ran += 1
                    report.rows.append(row)
                    source.finished(unit, row)
                    if on_row is not None:
                        on_row(row)
    finally:
        held.release_all()
    if failed:
        raise UnitsFailed(failed, what, str(table.path))
    return report
