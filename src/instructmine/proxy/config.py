"""The proxy fine-tune protocol: every knob that changes an experiment's eval loss."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class ProxyConfig(BaseModel):
    """A frozen-trunk proxy fine-tune (DESIGN §2.2, docs/experiments.md).

    The bottom ``cached_layers`` decoder layers run once over every train and eval sequence
    (the trunk cache); each experiment fully fine-tunes the layers above them (LM head frozen)
    for ``steps`` AdamW steps (or ``epochs`` passes over the sub-dataset) of ``batch_size``
    sequences capped at ``max_length`` tokens, then measures the token-weighted mean response
    loss on the eval set's cached activations.
    Defaults are the "L20-full" protocol measured in benchmarks/RESULTS.md.
    """

    model_config = ConfigDict(extra="forbid")

    model: str = "smollm2-135m-instruct"
    template: str = "auto"
    cached_layers: int = Field(20, ge=1)
    lr: float = Field(1e-4, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    steps: int = Field(36, ge=1)
    epochs: float | None = Field(
        None, gt=0, description="if set, steps = ceil(epochs x records / batch_size), not steps"
    )
    batch_size: int = Field(8, ge=1)
    max_length: int = Field(256, ge=8)
    eval_max_records: int | None = Field(80, ge=1)
    eval_max_length: int = Field(512, ge=8)
    cache_dtype: str = Field("float16", pattern="^(float16|float32)$")
    threads: int | None = Field(None, ge=1)
    loss_chunk: int = Field(
        512, ge=0, description="positions per LM-head + loss chunk; 0 = all logits at once"
    )
    micro_batch_tokens: int = Field(
        512, ge=0, description="padded tokens per forward/backward pass; 0 = whole batch"
    )

    def protocol(self) -> str:
        """Short content hash naming this protocol in the experiments table."""
        from instructmine.fingerprint import digest_json

        # Memory/speed knobs that leave the numbers unchanged (up to float rounding) are left out.
        skip = {"threads", "loss_chunk", "micro_batch_tokens"}
        if self.epochs is None:
            skip.add("epochs")
        keep = self.model_dump(exclude=skip)  # unset epochs keeps earlier protocols' hashes
        return digest_json(keep)[:16]

    def n_steps(self, n_records: int) -> int:
        """Training steps for a sub-dataset of ``n_records``: ``steps``, or with ``epochs``
        set, enough batches to see every record ``epochs`` times (at least one step), so the
        training budget grows with the data as a size search needs."""
        if self.epochs is None:
            return self.steps
        return max(1, math.ceil(self.epochs * n_records / self.batch_size))

    def trunk_key(self) -> dict:
        """The settings a trunk cache depends on (not the training knobs)."""
        return {
            "model": self.model,
            "template": self.template,
            "cached_layers": self.cached_layers,
            "max_length": self.max_length,
            "eval_max_records": self.eval_max_records,
            "eval_max_length": self.eval_max_length,
            "cache_dtype": self.cache_dtype,
        }
