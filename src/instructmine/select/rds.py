"""RDS+ (Ivison et al. 2025): rank a pool by similarity to a query set, round-robin over queries.

Pool records and queries are embedded by the model to be tuned: the last hidden states,
mean-pooled with weights growing with position (w_t = t, so later tokens, which have seen more
of the text, count more), then normalised. Each query ranks the pool by cosine; the final
ranking takes each query's best not-yet-taken record in turn (round-robin), so no single query
takes the whole budget. The result is a RANKED-like file (``id``, ``rds_rank``, ``rds_score``)
that ``instructmine select --by rds_rank --top N --pool POOL`` turns into a pool.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

EMBED_VERSION = 1


def weighted_mean_embed(
    model: Any, tokenizer: Any, texts: Sequence[str], batch_size: int = 8, max_length: int = 512
) -> np.ndarray:
    """Unit vectors [len(texts), hidden]: position-weighted mean of the last hidden states.

    Texts are batched shortest first (rows in the input order), so a batch pads to a length
    close to its own rather than to the longest text: the vectors are the same (padding is
    masked and right-sided), the work is not spent on padding. A bar shows the records done.
    """
    import torch

    from instructmine.progress import progress_bars

    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    model.eval()
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length)["input_ids"]
    order = np.argsort([len(x) for x in encoded], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), np.float32)
    with torch.no_grad(), progress_bars() as bars:
        task = bars.add_task("RDS+ embedding", total=len(texts))
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            enc = tokenizer.pad({"input_ids": [encoded[i] for i in rows]}, return_tensors="pt")
            hidden = model(**enc, output_hidden_states=True).hidden_states[-1]
            mask = enc["attention_mask"].to(hidden.dtype)
            weights = torch.cumsum(mask, dim=1) * mask  # 1..len on real tokens, 0 on padding
            pooled = (hidden * weights.unsqueeze(-1)).sum(1) / weights.sum(1, keepdim=True)
            out[rows] = torch.nn.functional.normalize(pooled.float(), dim=-1).numpy()
            bars.advance(task, len(rows))
    return out


def round_robin(sim: np.ndarray, limit: int | None = None) -> np.ndarray:
    """Pool positions in RDS+ order: query 0's best, query 1's best, …, then second bests.

    ``sim`` is [queries, pool]; a query's ties go to the lower pool position. A record already
    taken is skipped. Returns ``limit`` positions (all when None).
    """
    q, p = sim.shape
    limit = p if limit is None else min(limit, p)
    order = np.argsort(-sim, axis=1, kind="stable")
    taken = np.zeros(p, dtype=bool)
    ptr = np.zeros(q, dtype=np.int64)
    out: list[int] = []
    while len(out) < limit:
        for i in range(q):
            while ptr[i] < p and taken[order[i, ptr[i]]]:
                ptr[i] += 1
            if ptr[i] == p:
                continue
            pos = int(order[i, ptr[i]])
            taken[pos] = True
            out.append(pos)
            if len(out) == limit:
                break
    return np.asarray(out, dtype=np.int64)


def _texts(path: Path, tokenizer: Any, prompts_only: bool) -> tuple[list[str], list[str]]:
    from instructmine.io.pool import read_pool
    from instructmine.prompting import pick_template

    t = read_pool(path, columns=["id", "messages"])
    texts = []
    kind = pick_template(tokenizer)
    for msgs in t.column("messages").to_pylist():
        if prompts_only:
            msgs = [m for m in msgs if m["role"] != "assistant"]
        if kind == "chat":
            texts.append(tokenizer.apply_chat_template(msgs, tokenize=False))
        else:
            texts.append("\n\n".join(m["content"] for m in msgs))
    return t.column("id").to_pylist(), texts


def cached_embed(
    load_model: Callable[[], Any],
    tokenizer: Any,
    texts: Sequence[str],
    key: dict[str, Any],
    cache_dir: Path | None,
    batch_size: int,
    max_length: int,
) -> np.ndarray:
    """:func:`weighted_mean_embed`, stored as ``cache_dir/<content key>.npy`` and reused.

    The key is the model's content fingerprint and the pooling settings (``key``) plus a digest
    of the texts themselves, so a changed record, model or setting never reuses stale vectors.
    ``load_model()`` is called only on a cache miss.
    """
    import hashlib

    from instructmine import atomic
    from instructmine.fingerprint import digest_json

    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode())
        h.update(b"\0")
    path = None
    if cache_dir is not None:
        name = digest_json([EMBED_VERSION, key, max_length, h.hexdigest()])
        path = Path(cache_dir) / f"{name}.npy"
        if path.is_file():
            return np.load(path)
    vectors = weighted_mean_embed(load_model(), tokenizer, texts, batch_size, max_length)
    if path is not None:
        with atomic.atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, vectors)
    return vectors


def rds_scores(
    pool: Path | str,
    queries: Path | str,
    model: str,
    *,
    query_prompts_only: bool = True,
    batch_size: int = 8,
    max_length: int = 512,
    cache_dir: Path | str | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Pool ids, their RDS+ rank (0 = first) and max cosine to any query.

    Embeddings are cached by content in ``cache_dir`` (when given): ranking the same records
    again with the same model and settings loads no model.
    """
    from instructmine.fingerprint import model_fingerprint
    from instructmine.models import load_causal_lm, load_tokenizer
    from instructmine.offline import offline

    with offline():
        tok = load_tokenizer(model)
    loaded: list[Any] = []

    def load_model() -> Any:
        if not loaded:
            with offline():
                loaded.append(load_causal_lm(model)[0])
        return loaded[0]

    cache = Path(cache_dir) if cache_dir is not None else None
    ids, texts = _texts(Path(pool), tok, prompts_only=False)
    _, qtexts = _texts(Path(queries), tok, prompts_only=query_prompts_only)
    if not qtexts:
        raise ValueError(f"{queries}: no query records; give a pool file of the target's examples")
    if not texts:
        raise ValueError(f"{pool}: no records to rank")
    key = {"model": model_fingerprint(model), "pooling": "position-weighted-mean"}
    pv = cached_embed(load_model, tok, texts, key, cache, batch_size, max_length)
    qv = cached_embed(load_model, tok, qtexts, key, cache, batch_size, max_length)
    sim = qv @ pv.T
    order = round_robin(sim)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids))
    return ids, rank, sim.max(axis=0).astype(float)


def rds_rank(
    pool: Path | str,
    queries: Path | str,
    model: str,
    out: Path | str,
    *,
    query_prompts_only: bool = True,
    batch_size: int = 8,
    max_length: int = 512,
    cache_dir: Path | str | None = None,
) -> Path:
    """Write ``out`` (Parquet: ``id``, ``rds_rank``, ``rds_score``) ranking POOL for QUERIES.

    ``queries`` is a pool file too (ingest the target eval set); by default only its prompts
    are embedded (the target's answers are not needed). ``model`` is the model to be tuned.
    """
    import pyarrow as pa

    from instructmine import atomic

    atomic.refuse_overwriting_inputs([out], [pool, queries])
    ids, rank, score = rds_scores(
        pool,
        queries,
        model,
        query_prompts_only=query_prompts_only,
        batch_size=batch_size,
        max_length=max_length,
        cache_dir=cache_dir,
    )
    atomic.write_table(pa.table({"id": ids, "rds_rank": rank, "rds_score": score}), out)
    return Path(out)
