"""kNN distances equal a brute-force numpy computation; the approximate index is exact when it
searches every list; the sentence-embedding path runs with a tiny sentence-transformers model."""

from __future__ import annotations

import numpy as np
import pytest
from helpers_indicators import alpaca_records

from instructmine.indicators.knn import kth_neighbour_distance
from instructmine.indicators.registry import create
from instructmine.runners.local import run_local


def brute_force(x: np.ndarray, k: int) -> np.ndarray:
    x = x.astype(np.float64)
    sq = (x * x).sum(1)
    d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0))
    np.fill_diagonal(d, np.inf)
    return np.partition(d, k - 1, axis=1)[:, k - 1]


def unit_vectors(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(8, dim))
    x = centres[rng.integers(0, 8, n)] + 0.4 * rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("k", [1, 6])
def test_exact_equals_brute_force(k):
    x = unit_vectors(300, 24, seed=k)
    np.testing.assert_allclose(kth_neighbour_distance(x, k), brute_force(x, k), atol=1e-5)


def test_duplicates_are_neighbours_at_distance_zero():
    x = unit_vectors(50, 16, seed=3)
    x[10] = x[11] = x[12]
    got = kth_neighbour_distance(x, 2)
    np.testing.assert_allclose(got, brute_force(x, 2), atol=1e-5)
    assert got[10] == pytest.approx(0.0, abs=1e-3)


def test_ivf_searching_every_list_is_exact():
    x = unit_vectors(1500, 16, seed=5)
    got = kth_neighbour_distance(x, 6, exact_max=100, nlist=20, nprobe=20)
    np.testing.assert_allclose(got, brute_force(x, 6), atol=1e-5)


def test_ivf_default_recall_is_high_on_clustered_data():
    x = unit_vectors(1500, 16, seed=6)
    exact = brute_force(x, 6)
    approx = kth_neighbour_distance(x, 6, exact_max=100)
    assert np.all(approx >= exact - 1e-5)  # an approximate k-th neighbour is never closer
    assert np.mean(np.isclose(approx, exact, atol=1e-5)) > 0.9


def test_too_small_pool_is_an_error():
    with pytest.raises(ValueError, match="more than 6 records"):
        kth_neighbour_distance(unit_vectors(6, 8, 0), 6)


def test_knn_indicator_with_tiny_sentence_model(tiny_st_dir, tmp_path):
    from helpers_indicators import write_pool

    from instructmine.models import load_sentence_encoder

    recs = alpaca_records(20)
    pool = write_pool(tmp_path / "pool.parquet", recs)
    ind = create("knn_3", model=str(tiny_st_dir))
    out = run_local(pool, [ind], tmp_path / "scores", chunk_size=7, progress=False)
    import pyarrow.parquet as pq

    got = pq.read_table(out["knn_3"]).column("knn_3").to_numpy()
    enc = load_sentence_encoder(tiny_st_dir)
    vec = enc.encode([r["messages"][-1]["content"] for r in recs], normalize_embeddings=True)
    np.testing.assert_allclose(got, brute_force(np.asarray(vec), 3), atol=1e-4)
    # knn_5 reuses the cached embeddings (no embedding work) and gives the 5th distance
    calls = []
    ind5 = create("knn_5", model=str(tiny_st_dir))
    out5 = run_local(
        pool, [ind5], tmp_path / "scores", progress=False, on_chunk=lambda n, k: calls.append(k)
    )
    assert calls == []
    got5 = pq.read_table(out5["knn_5"]).column("knn_5").to_numpy()
    np.testing.assert_allclose(got5, brute_force(np.asarray(vec), 5), atol=1e-4)


def test_read_embeddings_returns_the_cached_vectors(tiny_st_dir, tmp_path):
    """Selection reads the vectors kNN computed, in pool order, without embedding again."""
    from helpers_indicators import write_pool

    from instructmine.models import load_sentence_encoder
    from instructmine.scoring import read_embeddings, score_pool

    recs = alpaca_records(15)
    pool = write_pool(tmp_path / "pool.parquet", recs)
    score_pool(pool, tmp_path / "s", ["knn_3"], {"knn_3": {"model": str(tiny_st_dir)}},
               progress=False)  # fmt: skip
    ids, vectors = read_embeddings(tmp_path / "s", "knn_3")
    assert ids.to_pylist() == [r["id"] for r in recs]
    enc = load_sentence_encoder(tiny_st_dir)
    want = enc.encode([r["messages"][-1]["content"] for r in recs], normalize_embeddings=True)
    np.testing.assert_allclose(vectors, want, atol=1e-5)
    with pytest.raises(FileNotFoundError, match="no 'knn_6' scores"):
        read_embeddings(tmp_path / "s", "knn_6")
