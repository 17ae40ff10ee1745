"""Grid enumeration, the results table (resumable) and a pluggable unit over real pools."""

import pytest

from instructmine.io.pool import read_pool
from instructmine.mix.grid import (
    GridConfig,
    Sweep,
    enumerate_mixtures,
    read_results,
    results_path,
    run_grid,
)


def grid(pools, tmp_path, **kw) -> GridConfig:
    comps = {
        "A": {"pool": pools["alpaca"], "category": "chat"},
        "C": {"pool": pools["codealpaca"], "category": "code"},
        "P": {"pool": pools["p3"], "category": "nlp"},
    }
    return GridConfig(components=comps, out=tmp_path / "grid", **kw)


def test_three_components_give_the_papers_eight_mixtures(pools, tmp_path):
    names = [m.name for m in enumerate_mixtures(grid(pools, tmp_path, per_type=10))]
    assert names == ["None", "A", "C", "P", "AC", "AP", "CP", "ACP"]
    mixtures = {m.name: m for m in enumerate_mixtures(grid(pools, tmp_path, per_type=10))}
    assert mixtures["ACP"].counts == {"A": 10, "C": 10, "P": 10}
    assert mixtures["CP"].counts == {"C": 10, "P": 10}
    assert mixtures["None"].counts == {}


def test_ratio_sweep_sizes(pools, tmp_path):
    cfg = grid(
        pools,
        tmp_path,
        combinations=False,
        include_none=False,
        sweeps=[Sweep(component="C", ratios=[0.5, 1.5], total=25)],
    )
    m = enumerate_mixtures(cfg)
    assert [x.name for x in m] == ["C:rest=0.5", "C:rest=1.5"]
    assert m[1].counts == {"C": 15, "A": 5, "P": 5}  # 15 : 10 = 1.5
    assert m[0].counts == {"C": 8, "A": 9, "P": 8}  # 8 : 17 is the nearest to 0.5 in 25


def test_sweep_against_one_component_is_the_papers_specialised_to_general(pools, tmp_path):
    cfg = grid(
        pools,
        tmp_path,
        combinations=False,
        include_none=False,
        sweeps=[Sweep(component="C", against=["A"], ratios=[1.5, 3], total=20)],
    )
    m = enumerate_mixtures(cfg)
    assert [x.name for x in m] == ["C:A=1.5", "C:A=3"]
    assert m[0].counts == {"C": 12, "A": 8}  # no P at all
    assert m[1].counts == {"C": 15, "A": 5}
    assert m[0].fractions(["A", "C", "P"]) == {"A": 0.4, "C": 0.6, "P": 0.0}


@pytest.mark.parametrize("against", [["X"], ["C"]])
def test_a_sweep_against_an_unknown_or_the_same_component_is_refused(pools, tmp_path, against):
    import yaml

    from instructmine.mix.grid import load_grid
    from instructmine.mix.spec import MixSpecError

    comps = {n: {"pool": str(pools[k]), "category": n} for n, k in [("A", "alpaca"), ("C", "p3")]}
    path = tmp_path / "grid.yaml"
    sweep = {"component": "C", "against": against, "ratios": [1], "total": 4}
    path.write_text(yaml.safe_dump({"components": comps, "sweeps": [sweep]}))
    with pytest.raises(MixSpecError, match=r"grid.yaml: sweep of 'C' against .*sweeps.against"):
        load_grid(path)


def test_run_grid_builds_pools_and_resumes_after_a_crash(pools, tmp_path):
    cfg = grid(pools, tmp_path, per_type=8, seeds=[0, 1])
    calls = []

    def crashing(inp):
        if len(calls) == 5:
            raise RuntimeError("killed")
        calls.append((inp.mixture.name, inp.seed))
        n = 0 if inp.pool is None else read_pool(inp.pool).num_rows
        return {"records": n}

    assert [r["mixture"] for r in run_grid(cfg, crashing, only=["AC"])] == ["AC", "AC"]
    with pytest.raises(RuntimeError):
        run_grid(cfg, crashing)
    assert len(read_results(results_path(cfg))) == 5  # AC x 2 seeds, then 3 more
    with open(results_path(cfg), "a") as f:
        f.write('{"mixture": "torn')  # a write killed half-way
    rows = run_grid(cfg, lambda inp: _count(inp, calls))
    keys = [(r["mixture"], r["seed"]) for r in rows]
    assert len(keys) == len(set(keys)) == 15  # 7 mixtures x 2 seeds + None once, none twice
    assert len(calls) == 15  # each unit ran once over both runs
    assert [k for k in keys if k[0] == "None"] == [("None", 0)]  # no seed changes the base
    assert [s for _, s in keys[2:]] == sorted(s for _, s in keys[2:])  # seed-major after AC
    for r in rows:
        assert r["results"]["records"] == sum(r["counts"].values())
        assert r["seconds"] >= 0 and "_unit_seconds" not in r["results"]  # cost, beside results
        if r["mixture"] != "None":
            assert abs(sum(r["ratios"].values()) - 1) < 1e-9


def _count(inp, calls):
    calls.append((inp.mixture.name, inp.seed))
    return {"records": 0 if inp.pool is None else read_pool(inp.pool).num_rows}


def test_local_workers_give_the_sequential_table_and_resume(pools, tmp_path):
    from cheap_unit import count_in_worker, count_records

    seq = run_grid(grid(pools, tmp_path / "seq", per_type=8, seeds=[0, 1]), count_records)
    cfg = grid(pools, tmp_path / "par", per_type=8, seeds=[0, 1], workers=2, threads=1)
    cfg = cfg.model_copy(update={"unit_options": {"fail": "AP"}})
    with pytest.raises(RuntimeError, match=r"2 mixture unit\(s\) failed .*AP seed 0.*on purpose"):
        run_grid(cfg, count_in_worker)
    rows = read_results(results_path(cfg))
    assert len(rows) == 13  # every unit but AP (both seeds) is recorded
    cfg = cfg.model_copy(update={"unit_options": {}})
    par = run_grid(cfg, count_in_worker)
    assert len(par) == 15
    assert len({r["results"]["pid"] for r in par}) >= 2  # two worker processes took units
    assert {r["results"]["threads"] for r in par} == {1.0}
    assert all(r["seconds"] >= 0.3 for r in par)  # each worker unit sleeps 0.3 s
    strip = {"pid", "threads"}

    def key(rows):
        return sorted(
            (r["mixture"], r["seed"], {k: v for k, v in r["results"].items() if k not in strip})
            for r in rows
        )

    assert key(par) == key(seq)  # the same ids and counts as a sequential run
    size = results_path(cfg).stat().st_size
    assert run_grid(cfg, count_in_worker) == read_results(results_path(cfg))
    assert results_path(cfg).stat().st_size == size  # nothing ran again


def test_a_mixture_that_cannot_be_built_stops_the_grid_before_any_unit(pools, tmp_path):
    # the last mixture asks for more records than the pool holds: building it fails, and it
    # is built before the first unit runs (a grid used to spend its first units, then fail)
    cfg = grid(pools, tmp_path, per_type=4, seeds=[0], mixtures={"huge": {"A": 10**7}})
    calls = []
    with pytest.raises(Exception, match="huge|10000000|records"):
        run_grid(cfg, lambda inp: calls.append(inp.mixture.name) or {"records": 0})
    assert calls == []
    assert read_results(results_path(cfg)) == []
