"""The SFT trainer: trl's :class:`~trl.SFTTrainer`, with the LM head run at labelled positions only.

trl already flattens padding-free batches (one row, per-example ``position_ids``; transformers
turns that into a block-diagonal causal mask for SDPA/eager attention on CPU, and into varlen
kernels with FlashAttention on GPU) and groups batches by length. What it does not do off
Triton devices is skip the LM head at unlabelled positions: on CPU its fused head scores every
token, prompt and padding included. :func:`labelled_loss` runs the decoder body, keeps the hidden
states whose next token carries a label, and applies the LM head to those rows only. On a
49k-vocabulary model the head is a fifth of the forward cost, so prompts come nearly for free.
"""

from __future__ import annotations

from typing import Any

from instructmine.nll import decoder_parts, labelled_logits

# Batch keys the decoder body takes; the rest (labels, trl's varlen metadata) stay out.
_BODY_KEYS = (
    "input_ids",
    "attention_mask",
    "position_ids",
    "cu_seq_lens_q",
    "cu_seq_lens_k",
    "max_length_q",
    "max_length_k",
)


def labelled_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
) -> tuple[Any, int]:
    """Mean next-token NLL over labelled positions, and how many positions were labelled.

    The LM head sees only the hidden states that predict a labelled token
    (:func:`instructmine.nll.labelled_logits`). With ``num_items_in_batch`` (gradient
    accumulation) the summed NLL is divided by it instead, as transformers' own loss does.
    """
    import torch
    import torch.nn.functional as F

    if decoder_parts(model) is None:
        raise TypeError(
            f"{type(model).__name__} does not expose a decoder body and LM head; "
            "instructmine's trainer supports causal LMs built like transformers' *ForCausalLM"
        )
    extra = {k: inputs[k] for k in _BODY_KEYS[2:] if k in inputs}
    logits, targets, _ = labelled_logits(
        model,
        inputs["input_ids"],
        inputs.get("attention_mask"),
        inputs["labels"],
        use_cache=False,
        **extra,
    )
    nll = F.cross_entropy(logits, targets, reduction="sum")
    n = int(targets.numel())
    denom = num_items_in_batch if num_items_in_batch is not None else max(n, 1)
    return nll / torch.as_tensor(denom, device=nll.device), n


def real_tokens(inputs: dict[str, Any]) -> int:
    """Non-padding input tokens in a collated batch (padded or padding-free)."""
    if "attention_mask" in inputs:
        return int(inputs["attention_mask"].sum())
    if "cu_seq_lens_q" in inputs:
        return int(inputs["cu_seq_lens_q"][-1])
    return int(inputs["input_ids"].numel())


def make_trainer_class() -> type:
    """Build the trainer class (a function, so importing this module does not import trl)."""
    from trl import SFTTrainer

    class InstructMineTrainer(SFTTrainer):
        """SFTTrainer whose loss applies the LM head only where labels exist.

        ``input_tokens`` counts the real (non-padding) input tokens trained on; it is added to
        every log record as ``num_tokens`` (the progress bar's tokens/s).
        """

        input_tokens = 0
        labelled_tokens = 0

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if return_outputs:  # logits requested (compute_metrics): trl's own path
                return super().compute_loss(model, inputs, True, num_items_in_batch)
            loss, n_labelled = labelled_loss(model, inputs, num_items_in_batch)
            if (
                self.args.average_tokens_across_devices
                and num_items_in_batch is not None
                and self.accelerator.num_processes > 1
            ):
                loss = loss * self.accelerator.num_processes
            if self.model.training:
                self.input_tokens += real_tokens(inputs)
                self.labelled_tokens += n_labelled
            return loss

        def log(self, logs, *args, **kwargs):
            if "loss" in logs:
                logs = {**logs, "num_tokens": float(self.input_tokens)}
            return super().log(logs, *args, **kwargs)

    return InstructMineTrainer
