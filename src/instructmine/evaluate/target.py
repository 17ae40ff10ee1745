"""Load what is being evaluated: a model (alias, folder, hub id) or a fine-tuning run folder."""

from __future__ import annotations

import os
from typing import Any


def load_target(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any, dict]:
    """``(model, tokenizer, provenance)`` for a model name or a finished run folder
    (:func:`instructmine.models.load_for_eval`)."""
    from instructmine.models import load_for_eval

    model, tokenizer, described = load_for_eval(model_or_run)
    prov = {"model": described}
    prov.setdefault("name", str(model_or_run))
    prov.setdefault("parameters", sum(p.numel() for p in model.parameters()))
    return model, tokenizer, prov
