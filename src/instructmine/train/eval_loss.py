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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from instructmine.prompting import Template
from instructmine.schema import Message

RUN_CONFIG = "config.yaml"


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


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a finished instructmine training run directory."""
    p = Path(path)
    return (p / RUN_CONFIG).is_file() and ((p / "adapter").is_dir() or (p / "model").is_dir())


def load_for_eval(model_or_run_dir: str | os.PathLike[str]) -> tuple[Any, Any, str]:
    """Load ``(model, tokenizer, provenance)`` for evaluation, in eval mode.

    Accepts an offline alias, a local model folder or hub id (through
    :func:`instructmine.models.load_causal_lm`), or a training run directory: its base model
    with the LoRA adapter merged in (or its fully fine-tuned model). ``provenance`` says which
    model and which training data produced the weights.
    """
    from instructmine import models

    if not is_run_dir(model_or_run_dir):
        model, tok = models.load_causal_lm(model_or_run_dir)
        model.eval()
        return model, tok, models.describe(model_or_run_dir)

    import yaml

    run = Path(model_or_run_dir).resolve()
    cfg = yaml.safe_load((run / RUN_CONFIG).read_text(encoding="utf-8"))
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    data = (
        f"{manifest['n_records']} records of {manifest['pool']} "
        f"(sha256 {manifest['pool_sha256'][:12]})"
    )
    if (run / "adapter").is_dir():
        from peft import PeftModel

        base, _ = models.load_causal_lm(cfg["model"])
        model = PeftModel.from_pretrained(base, str(run / "adapter")).merge_and_unload()
        tok = models.load_tokenizer(run / "adapter")
        what = f"{models.describe(cfg['model'])} + {cfg['method']} adapter merged from run {run}"
    else:
        model, tok = models.load_causal_lm(run / "model")
        what = f"{models.describe(cfg['model'])} fully fine-tuned in run {run}"
    model.eval()
    return model, tok, f"{what}, trained on {data}"


def conversations_of(source: Any, max_records: int | None = None) -> Sequence[list[Message]]:
    """The eval conversations :func:`eval_loss` would score (for reports and checks)."""
    return _conversations(source, max_records)
