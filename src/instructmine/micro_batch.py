"""Micro-batches: one batch trained as several smaller forward/backward passes.

Activations kept for the backward pass grow with the tokens of a pass, so a batch split into
parts of at most ``max_tokens`` padded tokens, each run forward and backward with the loss
divided by the whole batch's count, gives the same gradient (gradients accumulate) at the
memory of one part. Sorting the rows by length and cutting each part to its longest row also
drops most of the padding a batch of mixed lengths carries.
"""

from __future__ import annotations

from typing import Any


def micro_batches(inputs: dict[str, Any], max_tokens: int) -> list[dict[str, Any]]:
    """Split a padded batch into micro-batches of at most ``max_tokens`` padded tokens.

    ``inputs`` holds ``labels`` and other tensors whose first two dimensions are ``[rows,
    width]`` (ids, masks, hidden states); anything else goes to every part unchanged. Rows are
    taken longest first (by ``attention_mask``); each part is cut to its own longest row (right
    padding), so the split also drops padding. A single row, a padding-free batch (one
    flattened row with ``cu_seq_lens``) or ``max_tokens`` ≤ 0 comes back whole.
    """
    import torch

    rows, width = inputs["labels"].shape[:2]
    if max_tokens <= 0 or rows <= 1 or rows * width <= max_tokens or "cu_seq_lens_q" in inputs:
        return [inputs]
    mask = inputs.get("attention_mask")
    if mask is None:
        lengths = torch.full((rows,), width)
    else:
        lengths = mask.sum(1)
        prefix = torch.arange(width)[None, :] < lengths[:, None]
        if not torch.equal(mask.bool(), prefix):  # not right-padded: keep every column
            lengths = torch.full((rows,), width)
    order = torch.argsort(lengths, descending=True, stable=True).tolist()
    groups, start = [], 0
    while start < rows:
        longest = int(lengths[order[start]])
        take = max(1, min(rows - start, max_tokens // max(longest, 1)))
        groups.append((order[start : start + take], longest))
        start += take
    out = []
    for idx, longest in groups:
        sel = torch.tensor(idx)
        out.append(
            {
                k: v[sel, :longest] if torch.is_tensor(v) and v.shape[:2] == (rows, width) else v
                for k, v in inputs.items()
            }
        )
    return out
