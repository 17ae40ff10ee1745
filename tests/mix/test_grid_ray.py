"""Mixture-grid units as Ray tasks on the two-node loopback cluster: the same results table as
a local run, and a re-run runs nothing again."""

from __future__ import annotations

from cheap_unit import count_records

from instructmine.mix.grid import GridConfig, read_results, results_path, run_grid


def _grid(pools, out, **kw) -> GridConfig:
    comps = {
        "A": {"pool": pools["alpaca"], "category": "chat"},
        "C": {"pool": pools["codealpaca"], "category": "code"},
        "P": {"pool": pools["p3"], "category": "nlp"},
    }
    return GridConfig(components=comps, out=out, per_type=8, seeds=[0, 1], **kw)


def _by_key(rows):
    """Rows in a fixed order, without their wall seconds (a cost, not a result)."""
    rows = [{k: v for k, v in r.items() if k != "seconds"} for r in rows]
    return sorted(rows, key=lambda r: (r["mixture"], r["seed"]))


def test_ray_grid_equals_local_and_resumes(ray_cluster, pools, tmp_path):
    local = run_grid(_grid(pools, tmp_path / "local"), count_records)
    cfg = _grid(pools, tmp_path / "ray", runner="ray", ray_address=ray_cluster.address)
    on_ray = run_grid(cfg, count_records)
    assert len(on_ray) == len(local) == 15  # None runs at the first seed only
    assert _by_key(on_ray) == _by_key(local)
    assert all(r["seconds"] >= 0 for r in on_ray)
    size = results_path(cfg).stat().st_size
    assert run_grid(cfg, count_records) == read_results(results_path(cfg))
    assert results_path(cfg).stat().st_size == size
