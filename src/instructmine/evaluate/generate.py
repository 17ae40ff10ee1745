"""Batched text generation with stop sequences (used by the code and chat suites)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class GenerationConfig(BaseModel):
    """How completions are sampled: greedy when ``temperature`` is 0."""

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int = Field(256, gt=0)
    batch_size: int = Field(8, gt=0)
    temperature: float = Field(0.0, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    seed: int = 0


def truncate_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the earliest occurrence of any stop sequence."""
    cut = len(text)
    for s in stop:
        i = text.find(s)
        if i != -1:
            cut = min(cut, i)
    return text[:cut]


def generate(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    config: GenerationConfig,
    stop: Sequence[str] = (),
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """Complete each prompt (already rendered text); returns completions in input order.

    Prompts are sorted by length and left-padded per batch; generation stops per sequence at
    EOS or a stop string, and completions are truncated at the first stop string.
    """
    import torch

    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    old_side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
    out: list[str | None] = [None] * len(prompts)
    sampling = config.temperature > 0
    torch.manual_seed(config.seed)
    kwargs: dict[str, Any] = {
        "max_new_tokens": config.max_new_tokens,
        "do_sample": sampling,
        "pad_token_id": tokenizer.pad_token_id,
    }
    if sampling:
        kwargs.update(temperature=config.temperature, top_p=config.top_p)
    else:
        kwargs.update(temperature=None, top_p=None, top_k=None)
    if stop:
        kwargs.update(stop_strings=list(stop), tokenizer=tokenizer)
    model.eval()
    try:
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            enc = tokenizer(
                [prompts[i] for i in idx],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            )
            with torch.inference_mode():
                gen = model.generate(**enc, **kwargs)
            new = gen[:, enc["input_ids"].shape[1] :]
            for i, row in zip(idx, new, strict=True):
                text = tokenizer.decode(row, skip_special_tokens=True)
                out[i] = truncate_at_stop(text, stop)
            if on_batch is not None:
                on_batch(len(idx))
    finally:
        tokenizer.padding_side = old_side
    return out  # type: ignore[return-value]
