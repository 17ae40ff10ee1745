"""The contract every indicator meets (DESIGN §3: one file per indicator, one registry entry).

An indicator only computes columns. It declares:

- ``registry_name`` and ``Params`` (a pydantic model that rejects unknown keys);
- ``columns``: the output column names (one float/int value per record, never NaN);
- ``model`` provenance: which model it uses, which model the paper used, whether the configured
  model is an offline substitute, and a note when the substitute is a placeholder;
- ``setup(state)``: binds the run's :class:`~instructmine.indicators.state.RunState` (models
  and memos shared by the indicators of one run, owned by the runner) and calls ``load()``, where
  an indicator does its heavy imports and model loads, once per worker (never at import time);
- ``score(examples)`` for *record* indicators (each record scored on its own), or
  ``embed(examples)`` + ``finalize(vectors)`` for *pool* indicators (kNN: per-record state
  computed batch by batch and cached, the score computed over the whole pool at the end), with
  ``state_key()`` naming what that cached per-record state depends on.

A runner (local or Ray) turns Arrow record batches into :class:`Example` lists with
:func:`examples_from_batch`, sorts them by ``sort_key`` and calls ``score`` / ``embed``; the
indicator code is the same under every runner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

from instructmine.fingerprint import model_fingerprint
from instructmine.schema import Message, prompt_text, split_prompt_response

if TYPE_CHECKING:
    from instructmine.indicators.state import RunState


class IndicatorParams(BaseModel):
    """Base of every indicator's parameters: unknown keys are an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


@dataclass(frozen=True)
class Example:
    """One record split the way every indicator sees it (DESIGN §2.1)."""

    id: str
    messages: list[Message]
    prompt: list[Message]
    response: str

    @property
    def prompt_text(self) -> str:
        """The prompt turns flattened to text (a single user turn is returned as is)."""
        return prompt_text(self.prompt) if self.prompt else ""


def examples_from_batch(batch: pa.RecordBatch | pa.Table) -> list[Example]:
    """Split every record of a canonical batch into prompt and response.

    Raises ``ValueError`` naming the record when a conversation has no assistant turn.
    """
    ids = batch.column("id").to_pylist()
    convs = batch.column("messages").to_pylist()
    out = []
    for rid, msgs in zip(ids, convs, strict=True):
        try:
            prompt, response = split_prompt_response(msgs or [])
        except ValueError as err:
            raise ValueError(
                f"record {rid!r}: {err}; every record needs a final assistant turn (the response) "
                "to be scored — drop or fix it in the pool"
            ) from None
        out.append(Example(rid, msgs, prompt, response))
    return out


class Indicator:
    """Base class of all indicators; subclasses are registered with ``registry.register``."""

    registry_name: ClassVar[str]
    kind: ClassVar[Literal["record", "pool"]] = "record"
    Params: ClassVar[type[IndicatorParams]] = IndicatorParams
    description: ClassVar[str] = ""
    #: The model the InstructMining paper used for this indicator (None: no model).
    paper_model: ClassVar[str | None] = None
    #: Parameters that change speed but not results; left out of the cache key.
    runtime_params: ClassVar[frozenset[str]] = frozenset({"batch_size"})
    #: Bump when a code change alters results, so old caches are not reused.
    version: ClassVar[int] = 1

    def __init__(self, **params: Any) -> None:
        self.params = self.Params(**params)
        self.state: RunState | None = None

    # -- identity and provenance ------------------------------------------------------------
    @property
    def name(self) -> str:
        """The indicator's name as users write it (e.g. ``knn_6``)."""
        return self.registry_name

    @property
    def columns(self) -> tuple[str, ...]:
        """Output columns, one value per record."""
        return (self.name,)

    @property
    def model_name(self) -> str | None:
        """The configured model (alias, folder or hub id), or None for model-free indicators."""
        return getattr(self.params, "model", None)

    @property
    def is_substitute(self) -> bool:
        """True when a paper model exists and the configured model is not it."""
        return self.paper_model is not None and self.model_name != self.paper_model

    @property
    def note(self) -> str:
        """Caveat shown in listings and reports (e.g. a placeholder substitute)."""
        return ""

    def provenance(self) -> dict[str, Any]:
        """Which model and parameters produce this indicator's scores (for reports)."""
        from instructmine.models import describe

        return {
            "indicator": self.name,
            "columns": list(self.columns),
            "params": self.params.model_dump(mode="json"),
            "model_name": self.model_name,
            "model": describe(self.model_name) if self.model_name else None,
            "model_fingerprint": model_fingerprint(self.model_name) if self.model_name else None,
            "paper_model": self.paper_model,
            "substitute": self.is_substitute,
            "note": self.note,
            "version": self.version,
        }

    def cache_key(self) -> str:
        """Hash of (indicator, version, result-affecting params, model fingerprint)."""
        from instructmine.fingerprint import digest_json

        params = {
            k: v
            for k, v in self.params.model_dump(mode="json").items()
            if k not in self.runtime_params
        }
        return digest_json(
            {
                "indicator": self.name,
                "version": self.version,
                "params": params,
                "model": model_fingerprint(self.model_name),
            }
        )

    # -- work --------------------------------------------------------------------------------
    def setup(self, state: RunState | None = None) -> None:
        """Bind the run's shared state (a private one when None) and :meth:`load`.

        Called by the runner once per worker before scoring; indicators that share a
        ``state`` share its loaded models and memos.
        """
        from instructmine.indicators.state import RunState

        self.state = state if state is not None else RunState()
        self.load()

    def load(self) -> None:
        """Load models and heavy libraries through ``self.state`` (override in subclasses)."""

    def sort_key(self, examples: Sequence[Example]) -> np.ndarray:
        """Per-record cost proxy the runner sorts by, to batch similar lengths together."""
        return np.array(
            [len(e.response) + sum(len(m["content"]) for m in e.prompt) for e in examples]
        )

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        """Score records one by one (record indicators)."""
        raise NotImplementedError

    # pool indicators
    def state_key(self) -> dict[str, Any]:
        """Pool indicators: what the cached per-record state depends on (its cache key, with the
        model's content fingerprint added by the runner), so indicators differing only in how
        the state is used (``knn_6`` and ``knn_10``) share one cache."""
        raise NotImplementedError(f"pool indicator {self.name!r} must declare state_key()")

    def embed(self, examples: Sequence[Example]) -> np.ndarray:
        """Per-record state for a pool indicator (e.g. an embedding), shape ``[n, d]``."""
        raise NotImplementedError

    def finalize(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Pool indicators: scores of every record from the whole pool's per-record state."""
        raise NotImplementedError


def check_scores(ind: Indicator, scores: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """Check an indicator's output against its contract; raise with the offending column."""
    if set(scores) != set(ind.columns):
        raise RuntimeError(
            f"indicator {ind.name!r} returned columns {sorted(scores)}, declared {ind.columns}"
        )
    out = {}
    for col in ind.columns:
        arr = np.asarray(scores[col])
        if arr.shape != (n,):
            raise RuntimeError(
                f"indicator {ind.name!r} column {col!r}: shape {arr.shape} != ({n},)"
            )
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = int(np.flatnonzero(~np.isfinite(arr))[0])
            raise RuntimeError(
                f"indicator {ind.name!r} column {col!r}: non-finite value at row {bad}"
            )
        out[col] = arr
    return out
