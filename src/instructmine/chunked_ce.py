"""Cross-entropy through the LM head in chunks of positions: the vocabulary-wide logits of a batch
never exist at once.

A 49k-vocabulary head turns every scored position into 49,152 fp32 logits (192 kB); a batch of
8 × 256 training positions holds ~400 MB of logits, and the same again for the log-softmax the
loss keeps for its backward pass and for the gradient. Here the head and the loss run on
``chunk`` positions at a time:

- :func:`chunked_nll` (no gradient): the per-position NLL, for eval loss and scoring;
- :func:`chunked_loss` (with gradient): the summed NLL. For a plain linear head it is one
  autograd function that computes the gradients of each chunk in the forward pass (the loss is a
  sum, so its backward only scales them): no logits are kept and none are recomputed. Any other
  head (a LoRA-wrapped or quantised one) runs each chunk under activation checkpointing.

``chunk = 0`` means one chunk (the full logits, the path used before issue 30).
"""

from __future__ import annotations

import functools
from typing import Any

from instructmine.prompting import IGNORE_INDEX


def decoder_parts(model: Any) -> tuple[Any, Any] | None:
    """Return (decoder body, LM head) of a causal LM (PEFT-wrapped or not), or None if unknown."""
    core = model.get_base_model() if hasattr(model, "get_base_model") else model
    body = getattr(core, getattr(core, "base_model_prefix", ""), None)
    head = core.get_output_embeddings() if hasattr(core, "get_output_embeddings") else None
    if body is None or head is None or body is core:
        return None
    return body, head


def labelled_logits(
    model: Any, input_ids: Any, attention_mask: Any, labels: Any, **body_kwargs: Any
) -> tuple:
    """Logits at the positions that predict a labelled token.

    Returns ``(logits [N, V], targets [N], rows [N])``, where ``rows`` is the batch row of each
    position. Works with and without gradients, so the trainer uses it for its loss too.
    ``body_kwargs`` (e.g. ``position_ids`` of padding-free batches) go to the forward pass.
    """
    import torch

    targets_all = labels[:, 1:]
    keep = targets_all != IGNORE_INDEX
    parts = decoder_parts(model)
    if parts is None:  # unknown architecture: full logits, then select
        out = model(input_ids=input_ids, attention_mask=attention_mask, **body_kwargs)
        selected = out.logits[:, :-1][keep]
    else:
        body, head = parts
        hidden = body(
            input_ids=input_ids, attention_mask=attention_mask, **body_kwargs
        ).last_hidden_state
        selected = head(hidden[:, :-1][keep])
    rows = torch.nonzero(keep, as_tuple=True)[0]
    return selected.float(), targets_all[keep], rows


#: Positions per chunk: 512 × 49,152 fp32 logits ≈ 100 MB, large enough for an efficient matmul.
DEFAULT_CHUNK = 512


def _spans(n: int, chunk: int) -> list[tuple[int, int]]:
    step = chunk if chunk > 0 else max(n, 1)
    return [(s, min(s + step, n)) for s in range(0, n, step)]


def chunked_nll(hidden: Any, head: Any, targets: Any, chunk: int = DEFAULT_CHUNK) -> Any:
    """Per-position NLL ``[N]`` (fp32) of ``targets [N]`` under ``head(hidden [N, H])``.

    Meant for inference (no gradient is kept); ``chunk = 0`` computes all positions at once.
    """
    import torch
    import torch.nn.functional as F

    out = torch.empty(targets.shape[0], dtype=torch.float32, device=hidden.device)
    for s, e in _spans(targets.shape[0], chunk):
        logits = head(hidden[s:e]).float()
        out[s:e] = F.cross_entropy(logits, targets[s:e], reduction="none")
    return out


def _plain_linear(head: Any) -> bool:
    import torch

    return type(head) is torch.nn.Linear


def chunked_loss(hidden: Any, head: Any, targets: Any, chunk: int = DEFAULT_CHUNK) -> Any:
    """Summed NLL (a scalar with gradient) of ``targets [N]`` under ``head(hidden [N, H])``.

    The value and the gradients (to ``hidden`` and to trainable head parameters) equal those of
    ``F.cross_entropy(head(hidden).float(), targets, reduction="sum")`` up to float rounding;
    at most ``chunk`` positions' logits exist at any time, forward and backward.
    """
    import torch
    import torch.nn.functional as F

    if chunk <= 0 or targets.shape[0] <= chunk:
        return F.cross_entropy(head(hidden).float(), targets, reduction="sum")
    if _plain_linear(head):
        return _linear_ce().apply(hidden, head.weight, head.bias, targets, chunk)
    from torch.utils.checkpoint import checkpoint

    def part(h: Any, t: Any) -> Any:
        return F.cross_entropy(head(h).float(), t, reduction="sum")

    total = hidden.new_zeros((), dtype=torch.float32)
    for s, e in _spans(targets.shape[0], chunk):
        total = total + checkpoint(part, hidden[s:e], targets[s:e], use_reentrant=False)
    return total


@functools.cache
def _linear_ce() -> type:
    """The autograd function (built on first use: importing this module does not import torch)."""
    import torch

    class LinearCE(torch.autograd.Function):
        """``sum(cross_entropy(hidden @ weight.T + bias, targets))`` with the gradients taken
        chunk by chunk in the forward pass: dL/dlogits = softmax - onehot needs only the chunk's
        logits, which are dropped right after."""

        @staticmethod
        def forward(ctx, hidden, weight, bias, targets, chunk):  # type: ignore[override]
            want_h = hidden.requires_grad
            want_w = weight.requires_grad
            want_b = bias is not None and bias.requires_grad
            total = torch.zeros((), dtype=torch.float32, device=hidden.device)
            grad_h = torch.empty_like(hidden) if want_h else None
            grad_w = torch.zeros_like(weight, dtype=torch.float32) if want_w else None
            grad_b = torch.zeros_like(bias, dtype=torch.float32) if want_b else None
            for s, e in _spans(targets.shape[0], chunk):
                h, t = hidden[s:e], targets[s:e]
                logits = torch.nn.functional.linear(h, weight, bias).float()
                lse = torch.logsumexp(logits, dim=-1)
                picked = logits.gather(1, t[:, None]).squeeze(1)
                total += (lse - picked).sum()
                if not (want_h or want_w or want_b):
                    continue
                grad = logits.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
                grad[torch.arange(e - s, device=grad.device), t] -= 1.0
                if want_h:
                    grad_h[s:e] = (grad.to(weight.dtype) @ weight).to(hidden.dtype)
                if want_w:
                    grad_w += grad.t() @ h.float()
                if want_b:
                    grad_b += grad.sum(0)
            ctx.save_for_backward(
                *(g if g is not None else torch.empty(0) for g in (grad_h, grad_w, grad_b))
            )
            ctx.wants = (want_h, want_w, want_b)
            ctx.dtypes = (weight.dtype, None if bias is None else bias.dtype)
            return total

        @staticmethod
        def backward(ctx, grad_out):  # type: ignore[override]
            grad_h, grad_w, grad_b = ctx.saved_tensors
            want_h, want_w, want_b = ctx.wants
            w_dtype, b_dtype = ctx.dtypes
            return (
                grad_h * grad_out.to(grad_h.dtype) if want_h else None,
                (grad_w * grad_out).to(w_dtype) if want_w else None,
                (grad_b * grad_out).to(b_dtype) if want_b else None,
                None,
                None,
            )

    return LinearCE


def labelled_hidden(
    model: Any, input_ids: Any, attention_mask: Any, labels: Any, **body_kwargs: Any
) -> tuple[Any, Any, Any, Any]:
    """The decoder body's hidden states at positions that predict a labelled token.

    Returns ``(hidden [N, H], targets [N], rows [N], head)`` for a causal LM built like
    transformers' ``*ForCausalLM`` (PEFT-wrapped or not); feed them to :func:`chunked_loss` or
    :func:`chunked_nll`. Raises ``TypeError`` for a model without a separable LM head.
    """
    import torch

    parts = decoder_parts(model)
    if parts is None:
        raise TypeError(
            f"{type(model).__name__} does not expose a decoder body and LM head; "
            "the chunked loss supports causal LMs built like transformers' *ForCausalLM"
        )
    body, head = parts
    targets_all = labels[:, 1:]
    keep = targets_all != IGNORE_INDEX
    hidden = body(input_ids=input_ids, attention_mask=attention_mask, **body_kwargs)
    selected = hidden.last_hidden_state[:, :-1][keep]
    return selected, targets_all[keep], torch.nonzero(keep, as_tuple=True)[0], head


def labelled_nll(
    model: Any,
    input_ids: Any,
    attention_mask: Any,
    labels: Any,
    chunk: int = DEFAULT_CHUNK,
    **body_kwargs: Any,
) -> tuple[Any, Any, Any]:
    """Per-position NLL at the positions that predict a labelled token (no gradient).

    Returns ``(nll [N], targets [N], rows [N])`` like :func:`instructmine.chunked_ce.labelled_logits`
    returns logits, with the head applied ``chunk`` positions at a time. A model without a
    separable head falls back to its full logits.
    """
    import torch.nn.functional as F

    if chunk <= 0 or decoder_parts(model) is None:
        logits, targets, rows = labelled_logits(
            model, input_ids, attention_mask, labels, **body_kwargs
        )
        return F.cross_entropy(logits, targets, reduction="none"), targets, rows
    hidden, targets, rows, head = labelled_hidden(
        model, input_ids, attention_mask, labels, **body_kwargs
    )
    return chunked_nll(hidden, head, targets, chunk), targets, rows
