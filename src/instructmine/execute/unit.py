"""A unit of work, the one error a failed run raises, and the per-worker memo."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Unit:
    """One unit of work: its ``key`` in the results table and the arguments of ``fn(*args)``.

    ``info`` travels with the unit on the driver only (never sent to a worker): whatever the
    consumer needs back when the unit finishes (the size search's trial and phase).
    """

    key: str
    args: tuple = ()
    info: Any = field(default=None, compare=False)


class UnitsFailed(RuntimeError):
    """Some units raised; every other finished unit is in the table. ``failed``: key → error."""

    def __init__(self, failed: dict[str, str], what: str, table: str):
        self.failed = failed
        listed = "; ".join(f"{k}: {e}" for k, e in failed.items())
        super().__init__(
            f"{len(failed)} {what} failed (finished ones are in {table}; fix and run again to "
            f"resume): {listed}"
        )


_MEMO: dict[Hashable, Any] = {}


def memo(key: Hashable, build: Callable[[], T]) -> T:
    """The object ``build()`` made for ``key`` in this worker process (built on first use).

    Holds one entry: a new key replaces the old object. The inline backend clears it when its
    run ends, so nothing outlives a run in the driver; a worker process takes it with it.
    """
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = build()
    return _MEMO[key]


def clear_memo() -> None:
    """Drop the memoised object (end of an inline run)."""
    _MEMO.clear()


def describe_error(err: BaseException) -> str:
    """``Type: message`` of a unit's error; a Ray task error is unwrapped to its cause."""
    cause = getattr(err, "cause", None)
    if isinstance(cause, BaseException):
        err = cause
    return f"{type(err).__name__}: {err}"
