"""Size a run before starting it: scoring records/s, seconds per proxy experiment, GB per run.

The formulas and the measured points they were checked against are in ``docs/cost.md``. Time is
counted in matmul FLOPs (2 per parameter per token forward, 4 more backward through trained
weights, 2 backward through frozen ones) divided by what the machine sustains; memory is the
process baseline + weights + optimiser state + the activations of one micro-batch + the logits
of one loss chunk. Everything is an estimate for planning (±25% at the measured points), not a
promise: other jobs on the same cores slow a run down in proportion to the load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

GB = 1024**3


@dataclass(frozen=True)
class ModelShape:
    """The sizes of a decoder-only LM that cost depends on."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int
    kv_hidden: int  # width of the key/value projections (grouped-query attention)

    @property
    def layer_params(self) -> int:
        """Matmul parameters of one decoder layer (attention + MLP)."""
        h = self.hidden
        return 2 * h * h + 2 * h * self.kv_hidden + 3 * h * self.intermediate

    @property
    def head_params(self) -> int:
        """Parameters of the LM head (vocab × hidden; often tied to the embedding)."""
        return self.vocab * self.hidden

    @property
    def params(self) -> int:
        """All parameters, counting a tied head once."""
        return self.layers * self.layer_params + self.head_params

    @classmethod
    def from_hf_config(cls, config: object) -> ModelShape:
        """From a transformers ``PretrainedConfig`` of a Llama-like model."""
        h = int(config.hidden_size)  # type: ignore[attr-defined]
        heads = int(config.num_attention_heads)  # type: ignore[attr-defined]
        kv = int(getattr(config, "num_key_value_heads", heads) or heads)
        return cls(
            layers=int(config.num_hidden_layers),  # type: ignore[attr-defined]
            hidden=h,
            intermediate=int(config.intermediate_size),  # type: ignore[attr-defined]
            vocab=int(config.vocab_size),  # type: ignore[attr-defined]
            kv_hidden=h * kv // heads,
        )


#: SmolLM2-135M-Instruct, the default model (134.5M parameters).
SMOLLM2_135M = ModelShape(layers=30, hidden=576, intermediate=1536, vocab=49152, kv_hidden=192)
#: all-MiniLM-L6-v2, the kNN indicators' sentence encoder (22.7M parameters). Its MLP has two
#: 384 × 1536 matrices, counted here as a gated MLP of width 1024 (the same weights).
MINILM_L6 = ModelShape(layers=6, hidden=384, intermediate=1024, vocab=30522, kv_hidden=384)


@dataclass(frozen=True)
class Machine:
    """What a machine sustains. Defaults: the 2-core reference machine of docs/cost.md."""

    gflops: float = 190.0  # fp32 matmul peak, both cores (best of square 2048² products)
    inference_efficiency: float = 0.47  # fraction of the peak the default scoring set reaches
    training_efficiency: float = 0.36  # fraction a training step (forward + backward) reaches
    base_gb: float = 0.55  # Python + torch + transformers + trl imported, before any model
    # Resident bytes per byte of saved activations and logits: gradient buffers of the backward
    # pass and allocator slack (fitted on the LoRA 8 × 256 runs of docs/cost.md).
    transient_factor: float = 1.4


# ---- scoring ---------------------------------------------------------------------------------


def scoring_flops_per_record(
    tokens: float,
    response_tokens: float,
    model: ModelShape = SMOLLM2_135M,
    shared_prefix: float = 24,
) -> float:
    """Matmul FLOPs of the default indicator set for one record.

    ``tokens``: the record as the template encodes it; ``response_tokens``: its last
    assistant turn. Perplexity and IFD share the conditional pass: the record through the body,
    the head at the response tokens; IFD's unconditional pass: the response alone (≈ 1 token of
    turn header besides it). A prefix every record shares (SmolLM2's default system prompt: 24
    tokens) runs once per batch, so it is left out. kNN: the response through the sentence
    encoder. The length indicators and MTLD cost no model FLOPs.
    """
    body = model.layers * model.layer_params
    passes = (tokens - shared_prefix) + (response_tokens + 1)
    lm = 2 * body * passes + 2 * model.head_params * 2 * response_tokens
    enc = 2 * MINILM_L6.layers * MINILM_L6.layer_params * response_tokens
    return lm + enc


def scoring_records_per_second(
    tokens: float,
    response_tokens: float,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> float:
    """Records per second of the default indicator set on ``machine``."""
    flops = scoring_flops_per_record(tokens, response_tokens, model)
    return machine.gflops * 1e9 * machine.inference_efficiency / flops


def scoring_seconds(
    records: int,
    tokens: float,
    response_tokens: float,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> float:
    """Seconds to score ``records`` records with the default indicator set."""
    return records / scoring_records_per_second(tokens, response_tokens, model, machine)


# ---- proxy experiments and fine-tunes -------------------------------------------------------


def train_step_flops(
    tokens: float,
    labelled: float,
    model: ModelShape,
    trained_layers: int,
    frozen_layers_below: int = 0,
    method: Literal["full", "lora"] = "full",
) -> float:
    """Matmul FLOPs of one training pass over ``tokens`` tokens, ``labelled`` of them scored.

    Layers above ``frozen_layers_below`` run forward and backward: 2 FLOPs per weight per token
    forward, 2 for the input gradient, 2 more for the weight gradient when the weights train
    (``full``; LoRA's small adapters are not counted). The frozen head: 2 forward + 2 backward
    per weight per labelled token.
    """
    per_weight = 6 if method == "full" else 4
    body = per_weight * trained_layers * model.layer_params * tokens
    below = 2 * frozen_layers_below * model.layer_params * tokens
    return body + below + 4 * model.head_params * labelled


def proxy_seconds(
    steps: int = 36,
    batch: int = 8,
    tokens_per_record: float = 170.0,
    labelled_fraction: float = 0.55,
    eval_records: int = 80,
    eval_tokens_per_record: float = 190.0,
    cached_layers: int = 20,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
    overhead_s: float = 8.0,
) -> float:
    """Seconds per proxy experiment (the trunk cache already built): ``steps`` training steps
    of ``batch`` records through the top layers, then the eval set through them."""
    top = model.layers - cached_layers
    tokens = steps * batch * tokens_per_record
    train = train_step_flops(tokens, tokens * labelled_fraction, model, top)
    eval_tokens = eval_records * eval_tokens_per_record
    ev = 2 * top * model.layer_params * eval_tokens + 2 * model.head_params * eval_tokens * 0.6
    peak = machine.gflops * 1e9
    return (
        overhead_s
        + train / (peak * machine.training_efficiency)
        + ev / (peak * machine.inference_efficiency)
    )


def finetune_seconds(
    steps: int,
    batch: int = 8,
    tokens_per_record: float = 170.0,
    labelled_fraction: float = 0.55,
    method: Literal["full", "lora"] = "lora",
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> float:
    """Seconds of a fine-tune's training loop (model loading and eval not included)."""
    tokens = steps * batch * tokens_per_record
    flops = train_step_flops(tokens, tokens * labelled_fraction, model, model.layers, 0, method)
    return flops / (machine.gflops * 1e9 * machine.training_efficiency)


# ---- memory ----------------------------------------------------------------------------------

#: Bytes kept for the backward pass per token and layer, in units of ``hidden`` fp32 values:
#: LoRA (r16, dropout: every adapted input is copied) and full training (no adapter copies).
#: Counted from the saved tensors of SmolLM2-135M (docs/cost.md).
ACTIVATION_VECTORS = {"lora": 31.0, "full": 18.3}


def training_peak_gb(
    method: Literal["full", "lora"] = "lora",
    micro_batch_tokens: int = 512,
    loss_chunk: int = 512,
    batch_tokens: int = 2048,
    labelled_fraction: float = 0.67,
    trained_layers: int | None = None,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> float:
    """Peak resident GB of a fine-tune (``trained_layers`` set: a proxy's top layers).

    ``micro_batch_tokens`` / ``loss_chunk`` = 0 are the whole batch / full logits (the path
    before issue 30): then the activations and logits of the whole ``batch_tokens`` batch are
    alive together.
    """
    layers = model.layers if trained_layers is None else trained_layers
    weights = 4 * model.params
    trainable = model.params if method == "full" and trained_layers is None else 0
    if trained_layers is not None:
        trainable = trained_layers * model.layer_params
    optimiser = 12 * trainable  # fp32 gradient + AdamW's two moments
    tokens = micro_batch_tokens if micro_batch_tokens > 0 else batch_tokens
    tokens = min(tokens, batch_tokens)
    acts = ACTIVATION_VECTORS[method] * 4 * model.hidden * layers * tokens
    positions = loss_chunk if loss_chunk > 0 else tokens * labelled_fraction
    positions = min(positions, tokens * labelled_fraction)
    logits = 3 * 4 * model.vocab * positions  # logits, log-softmax / softmax, gradient
    variable = (acts + logits) * machine.transient_factor
    return machine.base_gb + (weights + optimiser + variable) / GB


def scoring_peak_gb(
    batch_tokens: int = 4096,
    loss_chunk: int = 512,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> float:
    """Peak resident GB of scoring (no gradient): weights, one batch's widest intermediate and
    the logits of one head chunk (``loss_chunk`` = 0: of the whole batch)."""
    positions = loss_chunk if loss_chunk > 0 else batch_tokens
    transient = 4 * batch_tokens * (model.intermediate * 3 + model.hidden * 4)
    logits = 2 * 4 * model.vocab * positions
    return machine.base_gb + (4 * model.params + transient + logits) / GB


def estimate(
    records: int,
    tokens_per_record: float,
    response_tokens: float,
    experiments: int = 0,
    model: ModelShape = SMOLLM2_135M,
    machine: Machine = Machine(),
) -> dict[str, float]:
    """The numbers ``run --dry-run`` prints: scoring time and records/s for ``records``
    records, seconds per proxy experiment (L20-full protocol, this model) and for
    ``experiments`` of them, and the peak GB of scoring, a LoRA fine-tune and a proxy
    experiment (the default memory settings)."""
    rate = scoring_records_per_second(tokens_per_record, response_tokens, model, machine)
    labelled = response_tokens / max(tokens_per_record, 1.0)
    per_proxy = proxy_seconds(
        tokens_per_record=min(tokens_per_record, 256),
        labelled_fraction=labelled,
        model=model,
        machine=machine,
    )
    cached = model.layers * 2 // 3
    return {
        "scoring_records_per_second": rate,
        "scoring_seconds": records / rate,
        "proxy_seconds_each": per_proxy,
        "proxy_seconds_total": per_proxy * experiments,
        "scoring_peak_gb": scoring_peak_gb(model=model, machine=machine),
        "lora_peak_gb": training_peak_gb("lora", model=model, machine=machine),
        "proxy_peak_gb": training_peak_gb(
            "full", trained_layers=model.layers - cached, model=model, machine=machine
        ),
    }


def describe(seconds: float) -> str:
    """``seconds`` as ``1 h 05 min`` / ``4 min 10 s`` / ``12 s``."""
    if not math.isfinite(seconds):
        return "unknown"
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"
