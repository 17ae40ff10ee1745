"""One proxy fine-tune on cached trunk activations, and its eval loss.

Training: ``steps`` AdamW steps (``epochs`` passes when set); each step draws ``batch_size``
records of the sub-dataset (a seeded permutation, cycled), feeds their cached trunk states
through the top layers and takes the token-weighted cross-entropy of the assistant tokens.
Eval: the same top layers on the cached eval states, token-weighted mean response NLL (as
:func:`instructmine.train.eval_loss` defines it). The base eval loss is the same measurement
before any step.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from instructmine.proxy.config import ProxyConfig
from instructmine.proxy.trunk_cache import TrunkCache


@dataclass
class ProxyResult:
    """Outcome of one proxy fine-tune."""

    eval_loss: float
    base_eval_loss: float
    train_loss: float
    seconds: float
    n_eval_tokens: int
    steps: int = 0
    """Training steps taken (``steps``, or the ``epochs`` passes over the sub-dataset)."""


def _batch(cache: TrunkCache, rows: Sequence[int]) -> tuple[Any, Any, Any]:
    import numpy as np
    import torch

    from instructmine.prompting import IGNORE_INDEX

    seqs = [cache.sequence(r) for r in rows]
    width = max(len(s[1]) for s in seqs)
    hidden = seqs[0][0].shape[1]
    states = np.zeros((len(seqs), width, hidden), dtype=np.float32)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    labels = torch.full((len(seqs), width), IGNORE_INDEX, dtype=torch.long)
    for i, (h, _, lab) in enumerate(seqs):
        states[i, : len(lab)] = h
        mask[i, : len(lab)] = 1
        labels[i, : len(lab)] = torch.from_numpy(np.asarray(lab))
    return torch.from_numpy(states), mask, labels


def cached_eval_loss(
    body: Any, head: Any, cache: TrunkCache, batch_size: int = 8, chunk: int = 0
) -> tuple[float, int]:
    """Token-weighted mean NLL of the eval responses through the top layers, and token count.

    The LM head runs on ``chunk`` positions at a time (``0``: the whole batch's logits at once).
    """
    import torch

    from instructmine.chunked_ce import chunked_nll
    from instructmine.proxy.trunk import top_hidden

    rows = sorted(cache.eval_rows(), key=lambda r: cache.offsets[r + 1] - cache.offsets[r])
    total, tokens = 0.0, 0
    with torch.no_grad():
        for k in range(0, len(rows), batch_size):
            states, mask, labels = _batch(cache, rows[k : k + batch_size])
            hidden, targets = top_hidden(body, states, mask, labels)
            total += float(chunked_nll(hidden, head, targets, chunk).sum())
            tokens += int(targets.numel())
    if tokens == 0:
        raise ValueError(f"{cache.path}: no eval response token survived eval_max_length; raise it")
    return total / tokens, tokens


def train_step(body: Any, head: Any, batch: tuple[Any, Any, Any], config: ProxyConfig) -> float:
    """Forward and backward of one batch's mean response NLL; returns the loss.

    The batch runs as micro-batches of at most ``config.micro_batch_tokens`` padded tokens
    (rows sorted by length, each part cut to its longest row) and the LM head on
    ``config.loss_chunk`` positions at a time; each part's summed NLL is divided by the whole
    batch's token count, so the accumulated gradient is the whole batch's.
    """
    from instructmine.chunked_ce import chunked_loss
    from instructmine.micro_batch import micro_batches
    from instructmine.prompting import IGNORE_INDEX
    from instructmine.proxy.trunk import top_hidden

    states, mask, labels = batch
    n_items = max(1, int((labels[:, 1:] != IGNORE_INDEX).sum()))
    whole = {"inputs_embeds": states, "attention_mask": mask, "labels": labels}
    total = 0.0
    for part in micro_batches(whole, config.micro_batch_tokens):
        hidden, targets = top_hidden(
            body, part["inputs_embeds"], part["attention_mask"], part["labels"]
        )
        loss = chunked_loss(hidden, head, targets, config.loss_chunk) / n_items
        loss.backward()
        total += float(loss.detach())
    return total


def base_loss(config: ProxyConfig, cache: TrunkCache) -> float:
    """Eval loss of the untrained top, memoised in the cache folder (one value per protocol)."""
    import json

    from instructmine import atomic

    path = cache.path / "base_eval_loss.json"
    try:
        return float(json.loads(path.read_text(encoding="utf-8"))["base_eval_loss"])
    except (OSError, ValueError, KeyError):
        pass
    from instructmine.models import load_causal_lm
    from instructmine.proxy.trunk import make_top

    body, head, _ = make_top(load_causal_lm(config.model)[0], config.cached_layers)
    body.eval()
    value, _ = cached_eval_loss(body, head, cache, config.batch_size, config.loss_chunk)
    atomic.write_json(path, {"base_eval_loss": value})
    return value


def run_proxy(
    config: ProxyConfig, cache: TrunkCache, record_ids: Sequence[str], seed: int
) -> ProxyResult:
    """Fine-tune the top layers on ``record_ids`` (cached) with ``seed``; measure eval loss.

    The ids' order does not matter: they are sorted before the seeded shuffle.
    """
    import torch

    from instructmine.models import load_causal_lm
    from instructmine.proxy.trunk import make_top

    start = time.perf_counter()
    if config.threads:
        torch.set_num_threads(config.threads)
    index = cache.index()
    dropped = cache.dropped_ids()  # no assistant token within max_length: nothing to learn
    missing = [r for r in record_ids if r not in index and r not in dropped]
    if missing:
        raise KeyError(
            f"{len(missing)} records are not in the trunk cache {cache.path} (e.g. "
            f"{missing[0]!r}); rebuild it from the pool the sub-datasets were sampled from"
        )
    # A subset is a set: the seeded shuffle below runs over rows in this order, so sort the
    # ids first, or the same subset at the same seed would train differently per caller.
    rows = [index[r] for r in sorted(record_ids) if r in index]
    base = base_loss(config, cache)
    torch.manual_seed(seed)
    model, _ = load_causal_lm(config.model)
    body, head, params = make_top(model, config.cached_layers)
    opt = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    gen = torch.Generator().manual_seed(seed)
    order: list[int] = []
    losses: list[float] = []
    body.train()
    for _ in range(config.n_steps(len(rows))):
        if len(order) < config.batch_size:
            order += [rows[i] for i in torch.randperm(len(rows), generator=gen).tolist()]
        take, order = order[: config.batch_size], order[config.batch_size :]
        opt.zero_grad(set_to_none=True)
        losses.append(train_step(body, head, _batch(cache, take), config))
        opt.step()
    body.eval()
    value, tokens = cached_eval_loss(body, head, cache, config.batch_size, config.loss_chunk)
    tail = losses[-max(1, len(losses) // 4) :]
    return ProxyResult(
        eval_loss=value,
        base_eval_loss=base,
        train_loss=sum(tail) / len(tail) if tail else math.nan,
        seconds=time.perf_counter() - start,
        n_eval_tokens=tokens,
        steps=len(losses),
    )
