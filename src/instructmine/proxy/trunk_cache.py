"""The frozen-trunk activation cache, shared by every proxy experiment.

The bottom layers of the proxy model run once over every candidate training record and every
eval example; the residual stream after them is stored in one flat array (``states.npy``,
``[total tokens, hidden]``) with per-sequence offsets, token ids and labels. The folder is
named by content: the model's fingerprint, the trunk settings of :class:`ProxyConfig`, and a
digest of the train records and eval conversations. Experiments open it memory-mapped, so
several processes share one copy in the page cache.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructmine.proxy.config import ProxyConfig
from instructmine.schema import Message

CACHE_VERSION = 1
BLOCK = 32  # batches per resumable block of a build (a killed build loses at most one)


@dataclass
class TrunkCache:
    """An opened trunk cache: ``states`` is memory-mapped; ``split`` 0 = train, 1 = eval."""

    path: Path
    ids: list[str]
    split: Any
    offsets: Any
    input_ids: Any
    labels: Any
    states: Any

    def index(self) -> dict[str, int]:
        """Row number of each train record id."""
        return {
            rid: i for i, (rid, s) in enumerate(zip(self.ids, self.split, strict=True)) if s == 0
        }

    def dropped_ids(self) -> set[str]:
        """Train records left out of the cache (no supervised token within max_length)."""
        meta = json.loads((self.path / "meta.json").read_text(encoding="utf-8"))
        return {d["id"] for d in meta.get("dropped", [])}

    def eval_rows(self) -> list[int]:
        """Row numbers of the eval examples."""
        return [i for i, s in enumerate(self.split) if s == 1]

    def sequence(self, row: int) -> tuple[Any, Any, Any]:
        """``(states [T, H], input_ids [T], labels [T])`` of one cached sequence."""
        a, b = int(self.offsets[row]), int(self.offsets[row + 1])
        return self.states[a:b], self.input_ids[a:b], self.labels[a:b]


def trunk_key(
    config: ProxyConfig,
    train: Sequence[tuple[str, Sequence[Message]]],
    eval_convs: Sequence[Sequence[Message]],
) -> str:
    """Content key of the cache for these records under ``config``."""
    from instructmine.fingerprint import digest_json, model_fingerprint

    return digest_json(
        [
            CACHE_VERSION,
            model_fingerprint(config.model),
            config.trunk_key(),
            digest_json([[rid, list(m)] for rid, m in train]),
            digest_json([list(c) for c in eval_convs]),
        ]
    )


def open_cache(path: Path | str) -> TrunkCache:
    """Open a built cache folder (states memory-mapped read-only)."""
    import numpy as np

    path = Path(path)
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    tok = np.load(path / "tokens.npz")
    return TrunkCache(
        path=path,
        ids=meta["ids"],
        split=tok["split"],
        offsets=tok["offsets"],
        input_ids=tok["input_ids"],
        labels=tok["labels"],
        states=np.load(path / "states.npy", mmap_mode="r"),
    )


def _encode(tokenizer: Any, config: ProxyConfig, train, eval_convs):
    from instructmine.prompting import encode
    from instructmine.train.data import encode_conversations

    enc = encode_conversations(
        tokenizer, train, config.template, config.max_length, source="trunk cache"
    )
    seqs = [(r.id, r.input_ids, r.labels, 0) for r in enc.records]
    for i, conv in enumerate(eval_convs):
        e = encode(tokenizer, conv, config.template, None, train_on="last_assistant")
        ids, labels = e.input_ids, e.labels
        if len(ids) > config.eval_max_length:  # keep the response: cut the prompt's left
            ids, labels = ids[-config.eval_max_length :], labels[-config.eval_max_length :]
        seqs.append((f"eval:{i}", ids, labels, 1))
    return seqs, enc.dropped


def build_cache(
    config: ProxyConfig,
    train: Sequence[tuple[str, Sequence[Message]]],
    eval_convs: Sequence[Sequence[Message]],
    root: Path | str | None = None,
    batch_size: int = 8,
    progress: bool = True,
) -> TrunkCache:
    """Build (or reuse) the trunk cache of ``train`` records and ``eval_convs``.

    ``root`` defaults to ``$INSTRUCTMINE_CACHE/trunk``. An existing complete folder with the
    same content key is opened as is; a build killed half-way keeps its finished blocks in
    ``<key>.parts/`` and the next build with the same key resumes from them.
    Processes asking for the same cache at once build it once: the others wait on a lock file
    beside it, then open what the first one wrote.
    """
    from instructmine import atomic
    from instructmine.models import cache_dir

    if not eval_convs:
        raise ValueError("the eval set is empty: the proxy needs eval examples")
    base = Path(root) if root is not None else cache_dir() / "trunk"
    dest = base / trunk_key(config, train, eval_convs)
    if (dest / "meta.json").is_file():
        return open_cache(dest)
    with atomic.locked(dest.with_name(dest.name + ".lock")):  # one builder; others wait
        if (dest / "meta.json").is_file():  # built while this process waited
            return open_cache(dest)
        return _build(config, train, eval_convs, dest, batch_size, progress)


def _build(
    config: ProxyConfig,
    train: Sequence[tuple[str, Sequence[Message]]],
    eval_convs: Sequence[Sequence[Message]],
    dest: Path,
    batch_size: int,
    progress: bool,
) -> TrunkCache:
    """Run the trunk over every sequence and write the cache folder ``dest`` atomically.

    Sequences run shortest first in blocks of ``BLOCK`` batches; each finished block is kept in
    ``dest.parts/`` (atomic files), so a build killed half-way resumes at the first missing block
    and the finished ones are read back, not recomputed. The parts go once the folder is complete.
    """
    import shutil

    import numpy as np
    import torch

    from instructmine import atomic
    from instructmine.models import load_causal_lm
    from instructmine.progress import progress_bars
    from instructmine.proxy.trunk import make_trunk, trunk_states

    if config.threads:
        torch.set_num_threads(config.threads)
    model, tokenizer = load_causal_lm(config.model)
    make_trunk(model, config.cached_layers)
    seqs, dropped = _encode(tokenizer, config, train, eval_convs)
    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i][1]))
    dtype = np.float16 if config.cache_dtype == "float16" else np.float32
    parts = dest.with_name(dest.name + ".parts")  # the content key names it: same work or none
    size = BLOCK * batch_size
    blocks = [order[k : k + size] for k in range(0, len(order), size)]
    states: list[Any] = [None] * len(seqs)
    with progress_bars(enabled=progress, transient=True) as bar:
        task = bar.add_task("trunk cache", total=len(seqs))
        for b, block in enumerate(blocks):
            part = parts / f"block-{b:05d}-{size}.npy"
            if part.is_file():  # finished before a kill
                flat = np.load(part)
                bar.advance(task, len(block))
            else:
                outs = []
                for k in range(0, len(block), batch_size):
                    chunk = block[k : k + batch_size]
                    hs = trunk_states(model, [seqs[i][1] for i in chunk])
                    outs += [h.to(torch.float32).numpy().astype(dtype) for h in hs]
                    bar.advance(task, len(chunk))
                flat = np.concatenate(outs)
                with atomic.atomic_path(part) as tmp, open(tmp, "wb") as f:
                    np.save(f, flat)
            cuts = np.cumsum([len(seqs[i][1]) for i in block])[:-1]
            for i, h in zip(block, np.split(flat, cuts), strict=True):
                states[i] = h
    lengths = [len(s[1]) for s in seqs]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    with atomic.atomic_path(dest, folder=True) as tmp:
        np.save(tmp / "states.npy", np.concatenate(states, axis=0))
        np.savez(
            tmp / "tokens.npz",
            split=np.array([s[3] for s in seqs], dtype=np.int8),
            offsets=offsets,
            input_ids=np.concatenate([np.asarray(s[1], dtype=np.int64) for s in seqs]),
            labels=np.concatenate([np.asarray(s[2], dtype=np.int64) for s in seqs]),
        )
        meta = {
            "version": CACHE_VERSION,
            "config": config.trunk_key(),
            "ids": [s[0] for s in seqs],
            "dropped": dropped,
            "n_train": sum(1 for s in seqs if s[3] == 0),
            "n_eval": sum(1 for s in seqs if s[3] == 1),
        }
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    shutil.rmtree(parts, ignore_errors=True)
    return open_cache(dest)


def cache_for_pool(
    config: ProxyConfig,
    pool: Path | str,
    eval_pool: Path | str,
    root: Path | str | None = None,
    ids: set[str] | None = None,
    progress: bool = False,
) -> TrunkCache:
    """The trunk cache over ``pool``'s records (only ``ids`` when given) and the first
    ``config.eval_max_records`` conversations of ``eval_pool``: built once, then found again
    by its content key."""
    from instructmine.train.data import read_conversations
    from instructmine.train.eval_loss import _conversations

    train = [(r, m) for r, m in read_conversations(pool) if ids is None or r in ids]
    evals = _conversations(str(eval_pool), config.eval_max_records)
    return build_cache(config, train, evals, root, progress=progress)
