"""Eval loss on a held-out instruction set: the quantity InstructMining regresses on (DESIGN §2.2).

``mean_loss`` is **token-weighted**: the summed NLL of every scored response token divided by
the number of those tokens (not the mean of per-example means), so long answers weigh by their
length, as the trainer's own loss does. The response is the last assistant turn of each
conversation, scored given everything before it, through the shared
:func:`instructmine.nll.conversation_nll` (same prompt encoding as training).

An example whose response falls entirely outside ``max_length`` (the prompt is truncated from
the left first, so this needs a very long response) scores no token: it is left out of the mean
and counted in ``n_skipped``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructmine.prompting import Template
from instructmine.schema import Message

BASE_CACHE_VERSION = 1


@dataclass
class EvalLoss:
    """Token-weighted mean response loss over an eval set, with per-example means."""

    mean_loss: float
    n_tokens: int
    n_examples: int
    per_example: list[float] = field(default_factory=list)
    n_skipped: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``per_example`` as ``null`` where an example scored nothing)."""
        return {
            "mean_loss": self.mean_loss,
            "n_tokens": self.n_tokens,
            "n_examples": self.n_examples,
            "n_skipped": self.n_skipped,
            "per_example": [None if math.isnan(x) else x for x in self.per_example],
        }


def _conversations(source: Any, max_records: int | None) -> list[list[Message]]:
    """Conversations from a pool path, an Arrow table, or a sequence of message lists."""
    if isinstance(source, str | os.PathLike):
        from instructmine.train.data import read_conversations

        path = Path(source)
        if path.suffix != ".parquet" and path.is_file():
            raise ValueError(
                f"{path}: eval data must be a canonical pool (Parquet); make one with "
                f"`instructmine ingest {path} --out eval.parquet`"
            )
        return [m for _, m in read_conversations(path, max_records)]
    if hasattr(source, "column") and hasattr(source, "num_rows"):  # pyarrow Table
        rows = source.column("messages").to_pylist()
        convs = [[{"role": m["role"], "content": m["content"]} for m in r] for r in rows]
    else:
        convs = [[dict(m) for m in conv] for conv in source]
    return convs[:max_records] if max_records is not None else convs


def eval_loss(
    model: Any,
    tokenizer: Any,
    conversations_or_pool: Any,
    template: Template = "auto",
    max_length: int | None = 1024,
    batch_size: int = 8,
    max_records: int | None = None,
    progress: Any = None,
) -> EvalLoss:
    """Mean response loss (nats/token, token-weighted) of ``model`` on an eval set.

    ``conversations_or_pool``: a pool Parquet path, a canonical Arrow table, or a sequence of
    ``messages`` lists. Raises ``ValueError`` when no example has a scorable response.
    """
    from instructmine.nll import conversation_nll

    convs = _conversations(conversations_or_pool, max_records)
    if not convs:
        raise ValueError("eval set is empty")
    nlls = conversation_nll(
        model,
        tokenizer,
        convs,
        template=template,
        max_length=max_length,
        batch_size=batch_size,
        last_turn_only=True,
        progress=progress,
    )
    total = sum(x.sum_nll for x in nlls)
    tokens = sum(x.n_tokens for x in nlls)
    if tokens == 0:
        raise ValueError(
            f"no response token was scored in {len(convs)} eval examples; raise max_length "
            f"(now {max_length})"
        )
    return EvalLoss(
        mean_loss=total / tokens,
        n_tokens=tokens,
        n_examples=sum(1 for x in nlls if x.n_tokens),
        per_example=[x.mean for x in nlls],
        n_skipped=sum(1 for x in nlls if not x.n_tokens),
    )


def eval_set_digest(source: Any, max_records: int | None) -> str:
    """Content hash of the eval conversations :func:`eval_loss` would score."""
    from instructmine.fingerprint import digest_json

    return digest_json(_conversations(source, max_records))


def base_eval_loss(
    model_name: str,
    model: Any,
    tokenizer: Any,
    conversations_or_pool: Any,
    template: Template = "auto",
    max_length: int | None = 1024,
    batch_size: int = 8,
    max_records: int | None = None,
    variant: str = "fp32",
) -> EvalLoss:
    """:func:`eval_loss` of an untrained base model, computed once per (model content
    fingerprint, eval set content, template, max length, variant) and reused by every run.

    Proxy experiments train dozens of runs against one eval set; their "eval loss before" is the
    same number, so it is read from ``$INSTRUCTMINE_CACHE/eval_loss/`` after the first run.
    ``variant`` names anything else that changes the base model's outputs (a 4-bit QLoRA load).
    """
    from instructmine import atomic
    from instructmine.fingerprint import digest_json, model_fingerprint
    from instructmine.models import cache_dir

    key = digest_json(
        [
            BASE_CACHE_VERSION,
            model_fingerprint(model_name),
            eval_set_digest(conversations_or_pool, max_records),
            template,
            max_length,
            variant,
        ]
    )
    path = cache_dir() / "eval_loss" / f"{key}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EvalLoss(
            mean_loss=data["mean_loss"],
            n_tokens=data["n_tokens"],
            n_examples=data["n_examples"],
            per_example=[math.nan if x is None else x for x in data["per_example"]],
            n_skipped=data["n_skipped"],
        )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    got = eval_loss(
        model, tokenizer, conversations_or_pool, template, max_length, batch_size, max_records
    )
    atomic.write_json(path, got.to_dict())
    return got
