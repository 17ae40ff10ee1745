"""``knn_<k>``: distance from a response's embedding to its k-th nearest neighbour in the pool.

Embeddings are sentence embeddings of the *response* text (the paper embedded examples with
SentenceBERT; the offline default is all-MiniLM-L6-v2, L2-normalised), the distance is Euclidean
between unit vectors (``sqrt(2 - 2 cos)``), and a record's own vector is not its neighbour.
Exact search (faiss ``IndexFlatL2``) up to ``exact_max`` records (100k: ~50 s on 2 cores);
above that an approximate inverted-file index (``IndexIVFFlat``, ``nlist`` ≈ 2·√n lists,
``nprobe`` searched), whose recall against exact search is measured in ``benchmarks/score.py``.

This is a *pool* indicator: embeddings are computed batch by batch (and cached like every other
score), the neighbour search runs once over the whole pool at the end.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

PAPER_MODEL = "SentenceBERT"


class KNNParams(IndicatorParams):
    """Parameters of ``knn_<k>``."""

    k: int = Field(6, ge=1, description="which neighbour (1 = nearest other record)")
    model: str = Field("all-minilm-l6-v2", description="sentence-transformers encoder")
    text: str = Field("response", pattern="^(response|prompt_response)$")
    exact_max: int = Field(100_000, ge=1, description="largest pool searched exactly")
    nlist: int | None = Field(None, ge=1, description="IVF lists (default about 2*sqrt(n))")
    nprobe: int = Field(16, ge=1, description="IVF lists searched per query")
    batch_size: int = Field(64, gt=0, description="most texts in one forward batch")
    batch_tokens: int = Field(
        8192, gt=0, description="most padded tokens in one forward batch (length-sorted)"
    )


def build_index(x: np.ndarray, exact_max: int, nlist: int | None = None, nprobe: int = 16):
    """An exact ``IndexFlatL2`` for up to ``exact_max`` vectors, else a trained ``IndexIVFFlat``."""
    import faiss

    n, d = x.shape
    if n <= exact_max:
        index = faiss.IndexFlatL2(d)
    else:
        nlist = nlist or max(1, int(round(2 * np.sqrt(n))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
        rng = np.random.default_rng(0)
        sample = x[np.sort(rng.choice(n, size=min(n, 40 * nlist), replace=False))]
        index.train(sample)
        index.nprobe = min(nprobe, nlist)
    index.add(x)
    return index


def kth_neighbour_distance(
    vectors: np.ndarray,
    k: int,
    exact_max: int = 100_000,
    nlist: int | None = None,
    nprobe: int = 16,
) -> np.ndarray:
    """Euclidean distance from each row to its k-th nearest *other* row (faiss)."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n = x.shape[0]
    if n <= k:
        raise ValueError(f"knn_{k} needs more than {k} records in the pool, got {n}")
    index = build_index(x, exact_max, nlist, nprobe)
    dist, idx = index.search(x, k + 1)
    is_self = idx == np.arange(n)[:, None]
    has_self = is_self.any(axis=1)
    # drop the record itself (wherever ties put it); if it was not returned, drop the last
    keep = np.where(has_self[:, None], ~is_self, np.arange(k + 1)[None, :] < k)
    kth_idx = idx[keep].reshape(n, k)[:, k - 1]
    if (kth_idx < 0).any():
        raise RuntimeError(
            f"the approximate index found fewer than {k} neighbours for some records; "
            "raise nprobe or exact_max"
        )
    kth = dist[keep].reshape(n, k)[:, k - 1].astype(np.float64)
    return np.sqrt(np.maximum(kth, 0.0))


@register
class KNN(Indicator):
    """Distance to the k-th nearest neighbour in sentence-embedding space."""

    registry_name = "knn"
    kind = "pool"
    Params = KNNParams
    paper_model = PAPER_MODEL
    runtime_params = frozenset({"batch_size", "batch_tokens"})
    description = "distance to the k-th nearest neighbour (sentence embeddings, faiss)"

    @classmethod
    def parse_name(cls, name: str) -> dict[str, Any] | None:
        """``knn_6`` -> ``{"k": 6}``."""
        m = re.fullmatch(r"knn_(\d+)", name)
        return {"k": int(m.group(1))} if m else None

    @property
    def name(self) -> str:
        return f"knn_{self.params.k}"

    def state_key(self) -> dict[str, Any]:
        """What the cached embeddings depend on (not k, not the index settings), so
        ``knn_6`` and ``knn_10`` share one embedding cache."""
        return {"embedding": "sentence", "model": self.params.model, "text": self.params.text}

    def load(self) -> None:
        self._enc = self.state.sentence_encoder(self.params.model)

    def texts(self, examples: Sequence[Example]) -> list[str]:
        """The text embedded for each record."""
        if self.params.text == "response":
            return [e.response for e in examples]
        return [f"{e.prompt_text}\n\n{e.response}" for e in examples]

    def sort_key(self, examples: Sequence[Example]) -> np.ndarray:
        """Length of the embedded text (the prompt does not count when only the response is)."""
        return np.array([len(t) for t in self.texts(examples)])

    def embed(self, examples: Sequence[Example]) -> np.ndarray:
        """Unit embeddings of the records' texts, in token-budget batches.

        Texts are sorted by token count (after the encoder's truncation) and cut into batches
        of at most ``batch_size`` texts and ``batch_tokens`` padded tokens, so short texts are
        not padded to a long neighbour's length; rows come back in input order.
        """
        from instructmine.nll import length_batches

        texts = self.texts(examples)
        out = np.zeros((len(texts), self._enc.get_embedding_dimension()), np.float32)
        if not texts:
            return out
        limit = self._enc.max_seq_length
        ids = self._enc.tokenizer(texts, truncation=limit is not None, max_length=limit)
        lengths = [len(x) for x in ids["input_ids"]]
        order = sorted(range(len(texts)), key=lambda i: -lengths[i])
        sorted_lengths = [lengths[i] for i in order]
        for start, stop in length_batches(
            sorted_lengths, self.params.batch_size, self.params.batch_tokens
        ):
            idx = order[start:stop]
            out[idx] = self._enc.encode(
                [texts[i] for i in idx],
                batch_size=len(idx),
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return out

    def finalize(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        p = self.params
        return {
            self.name: kth_neighbour_distance(
                vectors,
                p.k,
                p.exact_max,
                p.nlist,
                p.nprobe,
            )
        }
