"""DEITA's diversity filter: the most similar already-chosen record, by cosine, per candidate.

``ChosenSet`` keeps the unit vectors chosen so far and answers "how close is each of these
candidates to anything chosen?" exactly, with numpy (chunked matrix products) or faiss
(``IndexFlatIP``, the same answer with less memory per query block).
"""

from __future__ import annotations

import numpy as np


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (float32); all-zero rows stay zero (cosine 0 to anything)."""
    v = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


class ChosenSet:
    """The unit vectors chosen so far (capacity fixed up front for the numpy backend)."""

    def __init__(self, dim: int, capacity: int, backend: str = "numpy", chunk: int = 16384):
        self.backend = backend
        self.size = 0
        self.chunk = chunk
        if backend == "faiss":
            import faiss

            self.index = faiss.IndexFlatIP(dim)
        elif backend == "numpy":
            self.store = np.empty((max(capacity, 1), dim), dtype=np.float32)
        else:
            raise ValueError(f"diversity backend {backend!r}: use numpy or faiss")

    def max_similarity(self, queries: np.ndarray) -> np.ndarray:
        """For each query row, the largest cosine with a chosen vector (-inf when none)."""
        best = np.full(len(queries), -np.inf, dtype=np.float32)
        if self.size == 0 or len(queries) == 0:
            return best
        if self.backend == "faiss":
            sims, _ = self.index.search(queries, 1)
            return sims[:, 0]
        for start in range(0, self.size, self.chunk):
            block = self.store[start : min(self.size, start + self.chunk)]
            np.maximum(best, (queries @ block.T).max(axis=1), out=best)
        return best

    def add(self, rows: np.ndarray) -> None:
        """Append chosen unit vectors."""
        if len(rows) == 0:
            return
        if self.backend == "faiss":
            self.index.add(np.ascontiguousarray(rows, dtype=np.float32))
        else:
            if self.size + len(rows) > len(self.store):
                grown = np.empty(
                    (max(2 * len(self.store), self.size + len(rows)), rows.shape[1]),
                    dtype=np.float32,
                )
                grown[: self.size] = self.store[: self.size]
                self.store = grown
            self.store[self.size : self.size + len(rows)] = rows
        self.size += len(rows)
