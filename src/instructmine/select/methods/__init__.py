"""Selection methods registered by name: one file per method in this folder.

A method ranks a pool's records; the selection walk (:mod:`instructmine.select.walk`) then takes
the top n, skipping duplicates, full quotas and near neighbours. Every module in this folder is
imported on first registry use, so a new method is one file holding a
:class:`SelectionMethod` subclass decorated with :func:`register`; it then appears in
``instructmine select --method``, in ``select-compare``'s ``methods`` and in the size search's
``subset_loss`` objective (``method:``). See docs/contributing.md.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from instructmine.select.compare_config import CompareConfig
    from instructmine.select.config import SelectConfig


@dataclass
class MethodInputs:
    """The files a method may rank from.

    ``ranked``: the file whose records are ranked (``select``'s RANKED argument; in
    ``select-compare`` the ``ranked:`` file for a method that :attr:`~SelectionMethod.reads_ranked`,
    else the pool); ``pool``: where the records are taken from; ``scores``: a score folder;
    ``queries``: the target's examples; ``work``: a folder for the method's own files.
    """

    ranked: Path | None
    pool: Path
    scores: Path | None = None
    queries: Path | None = None
    work: Path | None = None


class SelectionMethod:
    """A way to rank records for selection. Subclass, set the class attributes, implement
    :meth:`ranking`, and decorate with :func:`register`."""

    name: ClassVar[str]
    """Registry name (``select --method NAME``)."""
    summary: ClassVar[str] = ""
    """One line for listings and help."""
    ranks_by: ClassVar[str | None] = None
    """The score column it ranks by (shown in the summary); None: the config's ``by``."""
    order: ClassVar[str] = "ascending"
    """Which end comes first when ``ranks_by`` is set (``ascending``: the lowest)."""
    reads_ranked: ClassVar[bool] = False
    """True when it walks a RANKED file (the rule); False when it ranks the pool itself."""
    reads: ClassVar[tuple[str, ...]] = ()
    """Further :class:`MethodInputs` it reads (``("queries",)``): recorded in the manifest."""
    seeded: ClassVar[bool] = False
    """True when the subset depends on ``seed`` (random): ``select-compare`` draws one per seed."""

    def configure(self, config: SelectConfig) -> None:
        """Fill this method's defaults into ``config`` and reject options it does not take
        (called by ``SelectConfig``'s validation)."""
        if self.ranks_by is not None:
            if config.by not in ("predicted_log_loss", self.ranks_by):
                raise ValueError(
                    f"method {self.name} ranks by {self.ranks_by}; drop --by {config.by}"
                )
            config.by, config.order = self.ranks_by, self.order
        if config.rds is not None:
            raise ValueError("rds settings are for method rds")

    def unavailable(self, inputs: MethodInputs) -> str | None:
        """Why this method cannot run on ``inputs`` (one line naming the fix), or None."""
        return None

    def ranking(self, inputs: MethodInputs, config: SelectConfig) -> tuple[pa.Array, np.ndarray]:
        """Record ids and their scores (NaN: unscored, left out), walked in ``config.order``."""
        raise NotImplementedError

    def models(self, config: SelectConfig) -> dict[str, str]:
        """Models whose content the selection depends on (keyed in the stage manifest)."""
        return {}

    def compare_options(self, cfg: CompareConfig) -> dict[str, Any]:
        """The ``SelectConfig`` options ``select-compare`` gives this method (besides its size)."""
        return {}


_REGISTRY: dict[str, SelectionMethod] = {}
_loaded = False


class UnknownMethodError(ValueError):
    """A selection method name that is not registered."""


def register(cls: type[SelectionMethod]) -> type[SelectionMethod]:
    """Class decorator: register a selection method under its ``name``."""
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]) is not cls:
        raise ValueError(f"selection method {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls()
    return cls


def unregister(name: str) -> None:
    """Remove a registered method (for tests that register a toy one)."""
    _REGISTRY.pop(name, None)


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True


def registered() -> dict[str, SelectionMethod]:
    """Every registered method by name: the built-in ones first, in their listing order."""
    _ensure_loaded()
    first = [n for n in BUILTIN_ORDER if n in _REGISTRY]
    return {n: _REGISTRY[n] for n in first + sorted(set(_REGISTRY) - set(first))}


def get(name: str) -> SelectionMethod:
    """The method called ``name``; an unknown name is an error with a "did you mean"."""
    methods = registered()
    if name in methods:
        return methods[name]
    close = difflib.get_close_matches(name, list(methods), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownMethodError(
        f"unknown selection method {name!r}.{hint} Available: {', '.join(methods)}"
    )


#: How the built-in methods are listed (and run by ``select-compare``): the rule first,
#: random (the baseline every method is judged against) last.
BUILTIN_ORDER = ("rule", "rds", "ifd", "random")
