"""What the scorer reads: cheap text indicators and chunked MiniLM embeddings.

MiniLM (``all-minilm-l6-v2``) reads at most 256 word pieces. A response is split into windows
of ``window`` tokens (offsets from the fast tokenizer, so each window is a slice of the original
text); up to ``max_chunks`` windows are embedded and averaged, so a 900-token answer is read
whole instead of being cut after its first paragraph. The prompt is embedded once (first window).

Embeddings of a large labelled pool are cached on disk in shards keyed by text hash, so an
interrupted run resumes where it stopped (:func:`embed_cached`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

CHEAP_NAMES = (
    "log_chars",
    "log_words",
    "log_prompt_chars",
    "log_ratio",
    "log_lines",
    "list_frac",
    "headers",
    "code_fences",
    "bold",
    "mtld",
    "mean_word_len",
    "refusal",
    "question_echo",
    "word_frac",
    "prompt_overlap",
)

_REFUSAL = re.compile(
    r"\b(as an ai|i'?m sorry|i cannot|i can'?t|i am unable|i'?m unable|language model)\b", re.I
)
_LIST = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"^[(\[\"'“‘]?[^\W\d_][^\W\d_'’-]*(?:['’-][^\W\d_]+)*[)\]\"'”’.,;:!?]*$")
_CONTENT = re.compile(r"[^\W\d_]{4,}")


def _overlap(prompt: str, response: str) -> float:
    """Share of the prompt's distinct content words (4+ letters) that the response uses."""
    want = set(_CONTENT.findall(prompt.lower()))
    if not want:
        return 1.0
    return len(want & set(_CONTENT.findall(response.lower()))) / len(want)


class FeatureConfig(BaseModel):
    """How texts become features (stored with a trained scorer; inference uses the same)."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    encoder: str | None = Field(
        "all-minilm-l6-v2", description="sentence encoder; None: cheap only"
    )
    window: int = Field(254, gt=8, le=254, description="tokens per embedded window")
    max_chunks: int = Field(4, ge=1, description="windows of the response embedded and averaged")
    embed_prompt: bool = True
    batch_size: int = Field(64, gt=0)


def cheap_features(prompts: Sequence[str], responses: Sequence[str]) -> np.ndarray:
    """Cheap per-record indicators, shape ``[n, len(CHEAP_NAMES)]`` (see ``CHEAP_NAMES``)."""
    from instructmine.indicators.mtld import mtld_batch

    mt = mtld_batch(list(responses))
    rows = []
    for p, r, m in zip(prompts, responses, mt, strict=True):
        lines = [ln for ln in r.splitlines() if ln.strip()]
        words = r.split()
        n_lines = max(len(lines), 1)
        rows.append(
            (
                np.log1p(len(r)),
                np.log1p(len(words)),
                np.log1p(len(p)),
                np.log1p(len(r)) - np.log1p(len(p)),
                np.log1p(len(lines)),
                sum(bool(_LIST.match(ln)) for ln in lines) / n_lines,
                np.log1p(sum(ln.lstrip().startswith("#") for ln in lines)),
                np.log1p(r.count("```")),
                np.log1p(r.count("**")),
                np.log1p(m),
                (sum(len(w) for w in words) / len(words)) if words else 0.0,
                float(bool(_REFUSAL.search(r))),
                float(p.strip()[:60].lower() in r.lower()) if p.strip() else 0.0,
                sum(bool(_WORD.match(w)) for w in words) / len(words) if words else 0.0,
                _overlap(p, r),
            )
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(prompts), len(CHEAP_NAMES))


def windows(tokenizer: Any, text: str, window: int, max_chunks: int) -> list[str]:
    """Up to ``max_chunks`` consecutive slices of ``text`` of ``window`` tokens each."""
    if not text.strip():
        return [text]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    offs = enc["offset_mapping"]
    out = []
    for start in range(0, len(offs), window):
        if len(out) == max_chunks:
            break
        piece = offs[start : start + window]
        out.append(text[piece[0][0] : piece[-1][1]])
    return out or [text]


def embed_texts(encoder: Any, texts: Sequence[str], cfg: FeatureConfig) -> np.ndarray:
    """Mean of the L2-normalised window embeddings of each text, ``[n, d]`` float32."""
    spans, owner = [], []
    for i, t in enumerate(texts):
        pieces = windows(encoder.tokenizer, t, cfg.window, cfg.max_chunks)
        spans += pieces
        owner += [i] * len(pieces)
    vecs = encoder.encode(
        spans, batch_size=cfg.batch_size, normalize_embeddings=True, show_progress_bar=False
    )
    owner = np.asarray(owner)
    out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float64)
    np.add.at(out, owner, vecs)
    out /= np.bincount(owner, minlength=len(texts))[:, None]
    return out.astype(np.float32)


def text_key(text: str) -> str:
    """Content key of one text for the embedding cache."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def read_cache(cache: Path) -> dict[str, np.ndarray]:
    """Every embedding already in a shard cache folder, by text key (nothing is computed)."""
    known: dict[str, np.ndarray] = {}
    for f in sorted(Path(cache).glob("shard-*.npz")):
        with np.load(f) as z:
            known.update(zip(z["keys"].tolist(), z["vecs"], strict=True))
    return known


def embed_cached(
    encoder: Any,
    texts: Sequence[str],
    cfg: FeatureConfig,
    cache: Path,
    shard: int = 256,
    on_shard: Any = None,
) -> np.ndarray:
    """Embeddings of ``texts`` through a resumable shard cache in folder ``cache``."""
    from instructmine.atomic import atomic_path

    cache.mkdir(parents=True, exist_ok=True)
    known = read_cache(cache)
    keys = [text_key(t) for t in texts]
    todo = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in known}.items())
    n_old = len(list(cache.glob("shard-*.npz")))
    for j in range(0, len(todo), shard):
        part = todo[j : j + shard]
        vecs = embed_texts(encoder, [t for _, t in part], cfg)
        dest = cache / f"shard-{n_old + j // shard:05d}.npz"
        with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, keys=np.array([k for k, _ in part]), vecs=vecs)
        known.update(zip([k for k, _ in part], vecs, strict=True))
        if on_shard:
            on_shard(j + len(part), len(todo))
    return np.stack([known[k] for k in keys]) if keys else np.zeros((0, 384), np.float32)


def feature_matrix(
    prompts: Sequence[str],
    responses: Sequence[str],
    cfg: FeatureConfig,
    encoder: Any = None,
    cache: Path | None = None,
) -> np.ndarray:
    """The scorer's input: ``[response emb, prompt emb * response emb, cheap indicators]``."""
    cheap = cheap_features(prompts, responses)
    if cfg.encoder is None:
        return cheap
    if cache is not None:
        r = embed_cached(encoder, responses, cfg, cache / "response")
    else:
        r = embed_texts(encoder, responses, cfg)
    parts = [r]
    if cfg.embed_prompt:
        pcfg = cfg.model_copy(update={"max_chunks": 1})
        uniq = list(dict.fromkeys(prompts))
        if cache is not None:
            pu = embed_cached(encoder, uniq, pcfg, cache / "prompt")
        else:
            pu = embed_texts(encoder, uniq, pcfg)
        index = {p: i for i, p in enumerate(uniq)}
        p = pu[[index[x] for x in prompts]]
        parts.append(p * r)
    parts.append(cheap)
    return np.hstack([x.astype(np.float64) for x in parts])
