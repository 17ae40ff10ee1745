"""Load what is being evaluated: a model (alias, folder, hub id) or a fine-tuning run folder."""

from __future__ import annotations

import os
from typing import Any


def load_target(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any, dict]:
    """``(model, tokenizer, provenance)`` for a model name or a run directory.

    Run directories (and models) go through ``instructmine.train.eval_loss.load_for_eval``
    when the training package provides it; otherwise through ``models.load_causal_lm``.
    """
    try:
        from instructmine.train.eval_loss import load_for_eval
    except ModuleNotFoundError as err:
        if err.name not in ("instructmine.train", "instructmine.train.eval_loss"):
            raise
        load_for_eval = None
    if load_for_eval is not None:
        model, tokenizer, prov = load_for_eval(model_or_run)
        prov = prov if isinstance(prov, dict) else {"model": str(prov)}
    else:
        from instructmine.models import describe, load_causal_lm, resolve

        model, tokenizer = load_causal_lm(model_or_run)
        prov = {"model": describe(model_or_run), "path": resolve(model_or_run)}
    model.eval()
    prov.setdefault("name", str(model_or_run))
    prov.setdefault("parameters", sum(p.numel() for p in model.parameters()))
    return model, tokenizer, prov
