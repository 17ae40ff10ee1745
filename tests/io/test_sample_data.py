"""The bundled demo sample ingests cleanly with its categories, and its eval set too."""

from __future__ import annotations

from helpers_io import load_records

from instructmine.io import ingest, read_pool, sample_data_dir, sample_eval_path, sample_sources


def test_sample_ingests_with_categories(tmp_path):
    specs = sample_sources()
    summary = ingest(specs, tmp_path / "s.parquet", force_category=True)
    assert summary.rejected == 0 and not summary.file_errors
    assert summary.read == sum(len(load_records(sample_data_dir() / s.path)) for s in specs)
    rows = read_pool(tmp_path / "s.parquet", columns=["source", "category"]).to_pylist()
    assert {(r["source"], r["category"]) for r in rows} == {(s.name, s.category) for s in specs}
    assert sum(p.stat().st_size for p in sample_data_dir().iterdir()) < 1_000_000
    ev = ingest([sample_eval_path()], tmp_path / "eval.parquet", source="eval")
    assert ev.kept == len(load_records(sample_eval_path())) == 40
