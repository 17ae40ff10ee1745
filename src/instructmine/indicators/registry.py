"""Indicators registered by name, created from ``name`` + params, with "did you mean" errors.

Names may carry a parameter (``knn_6`` is ``knn`` with ``k=6``): an indicator class that accepts
such names implements ``parse_name``.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any

from pydantic import ValidationError

from instructmine.indicators.base import Indicator

#: Modules holding the built-in indicators (imported on first registry use; each imports only
#: numpy/pydantic at module level, heavy libraries in ``setup()``).
BUILTIN_MODULES = (
    "input_length",
    "output_length",
    "mtld",
    "perplexity",
    "ifd",
    "reward",
    "unieval",
    "knn",
    "quality_scorer",
    "judge_rating",
)

#: The default offline set: indicators that run with packaged models and carry signal
#: (DESIGN §5). ``reward`` needs a user-supplied reward model (none ships offline) and the
#: UniEval substitutes are placeholders at chance, so neither is in the default set.
DEFAULT_INDICATORS = ("input_length", "output_length", "mtld", "perplexity", "ifd", "knn_6")

_REGISTRY: dict[str, type[Indicator]] = {}
_loaded = False


class UnknownIndicatorError(KeyError):
    """An indicator name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0])


def register(cls: type[Indicator]) -> type[Indicator]:
    """Class decorator: register an indicator under its ``registry_name``."""
    name = cls.registry_name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"indicator name {name!r} registered twice")
    _REGISTRY[name] = cls
    return cls


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        for mod in BUILTIN_MODULES:
            importlib.import_module(f"instructmine.indicators.{mod}")
        _loaded = True


def registered() -> dict[str, type[Indicator]]:
    """All registered indicator classes by registry name."""
    _ensure_loaded()
    return dict(_REGISTRY)


def _lookup(name: str) -> tuple[type[Indicator], dict[str, Any]]:
    _ensure_loaded()
    if name in _REGISTRY:
        return _REGISTRY[name], {}
    for cls in _REGISTRY.values():
        parsed = getattr(cls, "parse_name", None)
        found = parsed(name) if parsed else None
        if found is not None:
            return cls, found
    choices = sorted(_REGISTRY) + ["knn_6"]
    close = difflib.get_close_matches(name, choices, n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise UnknownIndicatorError(
        f"unknown indicator {name!r}.{hint} Available: {', '.join(sorted(_REGISTRY))} "
        "(knn takes its k in the name: knn_<k>). `instructmine indicators` lists them."
    )


def create(name: str, **params: Any) -> Indicator:
    """Create an indicator by name with parameters; bad names and bad params fail clearly.

    A parameter the name implies (``k`` of ``knn_6``) may be repeated with the same value, as in
    the full parameter set a score file records.
    """
    cls, implied = _lookup(name)
    clash = {k for k in set(implied) & set(params) if params[k] != implied[k]}
    params = {k: v for k, v in params.items() if k not in implied}
    if clash:
        raise ValueError(f"indicator {name!r}: {sorted(clash)} is given by the name already")
    try:
        return cls(**implied, **params)
    except ValidationError as err:
        raise ValueError(f"indicator {name!r}: bad parameters: {err}") from None
