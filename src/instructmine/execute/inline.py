"""The inline backend: each unit runs in this process, one at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from instructmine.execute.backends import BackendOptions
from instructmine.execute.unit import Unit, clear_memo


def _raise(err: BaseException) -> Callable[[], Any]:
    def result() -> Any:
        raise err

    return result


class InlineBackend:
    """Runs ``fn(*unit.args)`` at submit time (``fn`` may be a closure: nothing is pickled)."""

    slots = 1

    def __init__(self, options: BackendOptions):
        self._done: list[tuple[Unit, Callable[[], Any]]] = []

    def __enter__(self) -> InlineBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        clear_memo()

    def submit(self, fn: Callable[..., Any], unit: Unit) -> None:
        """Run the unit now; its row (or error) is handed out by :meth:`wait`."""
        try:
            row = fn(*unit.args)
        except Exception as err:  # reported by the engine with the unit's key
            self._done.append((unit, _raise(err)))
        else:
            self._done.append((unit, lambda: row))

    def wait(self) -> Iterator[tuple[Unit, Callable[[], Any]]]:
        """The units run since the last call."""
        done, self._done = self._done, []
        yield from done
