"""Split a causal LM into a frozen trunk (bottom layers) and a trainable top.

The trunk runs the embedding and the bottom ``n`` decoder layers; its hidden states are cached
(:mod:`instructmine.proxy.trunk_cache`). The top is the same model with only the layers above
``n`` kept: it is fed the cached states as ``inputs_embeds``, so rotary positions and the
causal mask are computed by the model's own code, unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _body_and_head(model: Any) -> tuple[Any, Any]:
    from instructmine.chunked_ce import decoder_parts

    parts = decoder_parts(model)
    if parts is None or not hasattr(parts[0], "layers"):
        raise ValueError(
            f"{type(model).__name__}: the proxy needs a decoder with a `layers` list "
            "(Llama-like causal LM); pick such a model in the proxy config"
        )
    return parts


def n_layers(model: Any) -> int:
    """Number of decoder layers of ``model``."""
    return len(_body_and_head(model)[0].layers)


def check_split(model: Any, cached_layers: int) -> None:
    """Raise ``ValueError`` unless ``cached_layers`` leaves at least one layer to train."""
    total = n_layers(model)
    if not 1 <= cached_layers < total:
        raise ValueError(
            f"cached_layers={cached_layers} must be between 1 and {total - 1} "
            f"(the model has {total} layers)"
        )


def pad_batch(seqs: Sequence[Sequence[int]], pad: int = 0) -> tuple[Any, Any]:
    """Right-padded ``(input_ids, attention_mask)`` tensors."""
    import torch

    width = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = torch.tensor(list(s), dtype=torch.long)
        mask[i, : len(s)] = 1
    return ids, mask


def make_trunk(model: Any, cached_layers: int) -> Any:
    """Cut ``model`` in place down to its embedding and bottom ``cached_layers`` layers.

    The final norm is removed too, so the body's output is the residual stream after the last
    kept layer. The model is in eval mode with gradients off.
    """
    import torch

    check_split(model, cached_layers)
    body, _ = _body_and_head(model)
    body.layers = torch.nn.ModuleList(list(body.layers)[:cached_layers])
    body.norm = torch.nn.Identity()
    model.eval()
    model.requires_grad_(False)
    return model


def trunk_states(trunk: Any, seqs: Sequence[Sequence[int]]) -> list[Any]:
    """Hidden states ``[len(seq), hidden]`` of each sequence after the trunk (no grad)."""
    import torch

    body, _ = _body_and_head(trunk)
    ids, mask = pad_batch(seqs)
    with torch.no_grad():
        hidden = body(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
    return [hidden[i, : len(s)] for i, s in enumerate(seqs)]


def make_top(model: Any, cached_layers: int) -> tuple[Any, Any, list[Any]]:
    """Cut ``model`` in place to its top layers; return ``(body, head, trainable params)``.

    Every top layer and the final norm train fully; the embedding and the (often tied) LM
    head stay frozen.
    """
    import torch

    check_split(model, cached_layers)
    body, head = _body_and_head(model)
    body.layers = torch.nn.ModuleList(list(body.layers)[cached_layers:])
    model.requires_grad_(False)
    params = [p for p in list(body.layers.parameters()) + list(body.norm.parameters())]
    for p in params:
        p.requires_grad_(True)
    return body, head, params


def top_hidden(body: Any, states: Any, mask: Any, labels: Any) -> tuple[Any, Any]:
    """Top-layer hidden states at positions predicting a labelled token, and those tokens' ids.

    ``states`` ``[B, T, H]`` are cached trunk outputs, right-padded; ``labels`` use
    ``IGNORE_INDEX`` for unsupervised and padded positions.
    """
    from instructmine.prompting import IGNORE_INDEX

    hidden = body(inputs_embeds=states, attention_mask=mask, use_cache=False).last_hidden_state
    targets = labels[:, 1:]
    keep = targets != IGNORE_INDEX
    return hidden[:, :-1][keep], targets[keep]


def top_logits(body: Any, head: Any, states: Any, mask: Any, labels: Any) -> tuple[Any, Any]:
    """Logits (all at once) at positions predicting a labelled token, and those tokens' ids."""
    hidden, targets = top_hidden(body, states, mask, labels)
    return head(hidden).float(), targets
