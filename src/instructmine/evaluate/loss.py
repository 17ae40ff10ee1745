"""Eval-loss suite: mean NLL of reference answers (self-instruct, MT-Bench, AlpacaEval).

The loss itself is computed by the shared code, ``instructmine.train.eval_loss.eval_loss``
(response tokens only, token-weighted); this module only picks the eval sets and reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from instructmine.evaluate.eval_sets import EVAL_FILES, load_eval_set

DEFAULT_LOSS_SETS = ("self_instruct", "mt_bench")


def run_loss(
    model: Any,
    tokenizer: Any,
    data_dir: Path,
    sets: Sequence[str] = DEFAULT_LOSS_SETS,
    limit: int | None = None,
    batch_size: int = 8,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> dict:
    """Token-weighted mean NLL (and perplexity) of each set's reference answers."""
    from instructmine.train.eval_loss import eval_loss

    out = {}
    for name in sets:
        items = [it for it in load_eval_set(name, data_dir) if it.reference]
        items = items[:limit] if limit else items
        if not items:
            raise ValueError(f"eval set {name} has no items with reference answers")
        tick = progress(f"loss {name}", len(items)) if progress else None
        got = eval_loss(
            model,
            tokenizer,
            [it.conversation() for it in items],
            batch_size=batch_size,
            progress=tick,
        )
        out[name] = {
            "loss": got.mean_loss,
            "perplexity": math.exp(got.mean_loss),
            "n_items": len(items),
            "n_scored": got.n_examples,
            "n_skipped": got.n_skipped,
            "n_tokens": got.n_tokens,
            "engine": "instructmine.train.eval_loss (response tokens, max_length 1024)",
            "data": {
                "files": [str(data_dir / f) for f in EVAL_FILES[name]],
                "reference": "the set's reference answers (assistant turn scored)",
            },
        }
    return out
