"""The SFT trainer: trl's :class:`~trl.SFTTrainer`, with the LM head run at labelled positions only.

trl already flattens padding-free batches (one row, per-example ``position_ids``; transformers
turns that into a block-diagonal causal mask for SDPA/eager attention on CPU, and into varlen
kernels with FlashAttention on GPU) and groups batches by length. What it does not do off
Triton devices is skip the LM head at unlabelled positions: on CPU its fused head scores every
token, prompt and padding included. :func:`labelled_loss` runs the decoder body, keeps the hidden
states whose next token carries a label, and applies the LM head to those rows only. On a
49k-vocabulary model the head is a fifth of the forward cost, so prompts come nearly for free.

Memory (issue 30): the head and the loss run on ``loss_chunk`` positions at a time
(:mod:`instructmine.chunked_ce`), and each batch is trained as micro-batches of at most
``micro_batch_tokens`` padded tokens whose gradients accumulate (:func:`micro_batches`): the
activations kept for the backward pass, ≈ 2 MB a token on a 135M model with LoRA, scale with
the micro-batch, not the batch. The optimiser still steps once per batch, on the same loss.
"""

from __future__ import annotations

from typing import Any

from instructmine.chunked_ce import decoder_parts, labelled_logits
from instructmine.micro_batch import micro_batches
from instructmine.prompting import IGNORE_INDEX

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
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None, chunk: int = 0
) -> tuple[Any, int]:
    """Mean next-token NLL over labelled positions, and how many positions were labelled.

    The LM head sees only the hidden states that predict a labelled token. With ``chunk`` > 0
    it runs on that many positions at a time (:func:`instructmine.chunked_ce.chunked_loss`: the
    batch's logits never exist at once, forward or backward); ``chunk = 0`` is the full-logits
    path (:func:`instructmine.chunked_ce.labelled_logits`). With ``num_items_in_batch`` (gradient
    accumulation, micro-batches) the summed NLL is divided by it instead, as transformers' own
    loss does.
    """
    import torch
    import torch.nn.functional as F

    if decoder_parts(model) is None:
        raise TypeError(
            f"{type(model).__name__} does not expose a decoder body and LM head; "
            "instructmine's trainer supports causal LMs built like transformers' *ForCausalLM"
        )
    extra = {k: inputs[k] for k in _BODY_KEYS[2:] if k in inputs}
    args = (model, inputs["input_ids"], inputs.get("attention_mask"), inputs["labels"])
    if chunk > 0:
        from instructmine.chunked_ce import chunked_loss, labelled_hidden

        hidden, targets, _, head = labelled_hidden(*args, use_cache=False, **extra)
        nll = chunked_loss(hidden, head, targets, chunk)
    else:
        logits, targets, _ = labelled_logits(*args, use_cache=False, **extra)
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
        loss_chunk = 0  # positions per LM-head chunk (0: full logits)
        micro_batch_tokens = 0  # padded tokens per micro-batch (0: the whole batch at once)

        def training_step(self, model, inputs, num_items_in_batch=None):
            parts = micro_batches(inputs, self.micro_batch_tokens)
            if len(parts) == 1:
                return super().training_step(model, inputs, num_items_in_batch)
            if num_items_in_batch is None:  # every part is divided by the whole batch's count
                num_items_in_batch = int((inputs["labels"][:, 1:] != IGNORE_INDEX).sum())
            total = None
            for part in parts:  # forward + backward per part: gradients accumulate
                loss = super().training_step(model, part, num_items_in_batch)
                total = loss if total is None else total + loss
            return total

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            if return_outputs:  # logits requested (compute_metrics): trl's own path
                return super().compute_loss(model, inputs, True, num_items_in_batch)
            loss, n_labelled = labelled_loss(model, inputs, num_items_in_batch, self.loss_chunk)
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
