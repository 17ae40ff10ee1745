"""``select-compare`` end to end: tiny model, tiny pool, proxy objective, every method, resume."""

from __future__ import annotations

import json
import statistics

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from instructmine.io import ingest, read_pool
from instructmine.scoring import score_pool
from instructmine.select.compare import run_compare
from instructmine.select.compare_config import load_compare_config
from instructmine.select.compare_stats import compare_table, diff_ci
from shared_paths import FIXTURES, run_cli, tiny_proxy


@pytest.fixture(scope="module")
def compare_data(tmp_path_factory, tiny_llama_dir):
    """A 24-record pool, a 6-record eval set, a RANKED file and an IFD score folder."""
    d = tmp_path_factory.mktemp("compare_data")
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (d / "pool.json").write_text(json.dumps(recs[:24]))
    ingest([d / "pool.json"], d / "pool.parquet")
    (d / "eval.json").write_text(json.dumps(recs[24:30]))
    ingest([d / "eval.json"], d / "eval.parquet")
    t = read_pool(d / "pool.parquet")
    # the "rule": shorter answers first
    lengths = [float(len(m[-1]["content"])) for m in t["messages"].to_pylist()]
    pq.write_table(pa.table({"id": t["id"], "predicted_log_loss": lengths}), d / "ranked.parquet")
    tiny = {"model": str(tiny_llama_dir), "max_length": 64}
    score_pool(d / "pool.parquet", d / "scores", ["ifd"], params={"ifd": tiny}, progress=False)
    return d, lengths, t["id"].to_pylist()


@pytest.fixture
def compare_yaml(tmp_path, tiny_llama_dir, compare_data):
    d, lengths, ids = compare_data
    cfg = {
        "pool": str(d / "pool.parquet"),
        "eval": str(d / "eval.parquet"),
        "ranked": str(d / "ranked.parquet"),
        "scores": str(d / "scores"),
        "n": 8,
        "out": "cmp",
        "seeds": [0, 1],
        "random_seeds": [0, 1, 2],
        "objective": "proxy",
        "proxy": tiny_proxy(tiny_llama_dir),
    }
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, lengths, ids


def _rows(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_compare_every_method_real_seeds_and_resume(compare_yaml, tmp_path, monkeypatch):
    path, lengths, ids = compare_yaml
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))  # RDS+ embeddings there
    r = run_cli("select-compare", path)
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "imcache" / "rds").glob("*.npy"))) == 2  # pool, queries
    out = tmp_path / "cmp"
    rows = _rows(out / "results.jsonl")
    want = {f"{m}:8:{s}" for m in ("rule", "rds", "ifd") for s in (0, 1)}
    want |= {f"random:8:{s}" for s in (0, 1, 2)}
    assert {row["key"] for row in rows} == want and len(rows) == len(want)
    table_lines = [ln for ln in r.stdout.splitlines() if "│" in ln]
    for m in ("rule", "rds", "ifd", "random"):
        assert any(ln.split("│")[1].strip() == m for ln in table_lines), (m, r.stdout)
    assert "winner:" in r.stdout or "cannot tell" in r.stdout
    assert "model: " in r.stdout and "ran 9 units, reused 0" in r.stdout

    # the rule subset is the top 8 by the ranking; the random subsets really differ
    by_len = [i for _, i in sorted(zip(lengths, ids, strict=True))]
    assert json.loads((out / "subsets" / "rule.select.json").read_text())["ids"] == by_len[:8]
    rand_ids = [
        set(read_pool(out / "subsets" / f"random_s{s}.parquet")["id"].to_pylist())
        for s in (0, 1, 2)
    ]
    assert all(len(x) == 8 for x in rand_ids) and len({frozenset(x) for x in rand_ids}) == 3

    # the SDs in compare.json are those of the recorded repeated runs
    doc = json.loads((out / "compare.json").read_text())
    by_method = {row["method"]: row for row in doc["rows"]}
    for m in ("rule", "random"):
        losses = [row["loss"] for row in rows if row["arm"] == m]
        assert by_method[m]["runs"] == len(losses)
        assert by_method[m]["sd"] == pytest.approx(statistics.stdev(losses))
        assert by_method[m]["sd"] > 0  # different seeds gave different losses
    assert by_method["random"]["diff"] is None and by_method["ifd"]["low"] is not None

    # resume (in this process): drop two finished units; only those run again
    kept = (out / "results.jsonl").read_bytes().splitlines()
    (out / "results.jsonl").write_bytes(b"\n".join(kept[:-2]) + b"\n")
    again = run_compare(load_compare_config(path))
    assert (again.ran, again.reused) == (2, 7)
    after = (out / "results.jsonl").read_bytes().splitlines()
    assert after[:-2] == kept[:-2] and len(after) == len(kept)
    third = run_compare(load_compare_config(path))
    assert (third.ran, third.reused) == (0, 9)

    # another objective setting into the same folder is refused, naming the file
    cfg = yaml.safe_load(path.read_text())
    cfg["proxy"]["steps"] = 4
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ValueError, match=r"results.jsonl.*new `out:`"):
        run_compare(load_compare_config(path))


def test_set_overrides_split_the_methods_and_a_later_run_adds_the_rest(
    compare_yaml, tmp_path, monkeypatch
):
    path, _, _ = compare_yaml
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))
    out = tmp_path / "split"  # an override's path is taken from the working directory
    r = run_cli("select-compare", path, "--set", "methods=[rule,random]", "--set", f"out={out}")
    assert r.returncode == 0, r.stderr
    assert {row["arm"] for row in _rows(out / "results.jsonl")} == {"rule", "random"}
    assert not (tmp_path / "cmp").exists()
    first = (out / "results.jsonl").read_bytes()
    # the same folder with every method: only RDS+ and IFD run; the finished rows stay as they are
    result = run_compare(load_compare_config(path, [f"out={out}"]))
    assert (result.ran, result.reused) == (4, 5)
    assert (out / "results.jsonl").read_bytes().startswith(first)
    bad = run_cli("select-compare", path, "--set", "nosuch=1")
    assert bad.returncode == 2 and "compare.yaml" in bad.stderr and "nosuch" in bad.stderr


def test_two_processes_share_the_units_and_wait_for_a_held_one(compare_yaml, tmp_path):
    """Two select-compare processes on one config run every unit once between them; a unit
    whose claim is held (here by the test) is waited for, then run when its holder lets go
    without a row (as when a holder is killed: the kernel drops its flock)."""
    import os
    import subprocess
    import sys
    import time

    from instructmine import atomic
    from shared_paths import REPO

    path, _, _ = compare_yaml
    out = tmp_path / "cmp"
    held = atomic.claim(out / "claims" / "rule:8:0.lock")
    assert held is not None
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="200")
    env["INSTRUCTMINE_CACHE"] = str(tmp_path / "imcache")
    cmd = [sys.executable, "-c", "from instructmine.cli import main; main()"]
    procs = [
        subprocess.Popen(
            [*cmd, "select-compare", str(path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = out / "results.jsonl"
    deadline = time.monotonic() + 600
    while not (results.exists() and len(_rows(results)) == 8):
        assert time.monotonic() < deadline and all(p.poll() is None for p in procs)
        time.sleep(0.5)
    assert "rule:8:0" not in {r["key"] for r in _rows(results)}
    time.sleep(1)
    assert all(p.poll() is None for p in procs)  # both wait for the held unit
    os.close(held)
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [e for _, e in outs]
    keys = [r["key"] for r in _rows(results)]
    assert len(keys) == 9 and len(set(keys)) == 9  # every unit once
    ran = [int(o.split("ran ")[1].split(" units")[0]) for o, _ in outs]
    assert sum(ran) == 9, ran
    for o, _ in outs:  # both print the whole table
        names = {ln.split("│")[1].strip() for ln in o.splitlines() if "│" in ln}
        assert {"rule", "rds", "ifd", "random"} <= names, o


def test_explicit_method_without_its_input_is_an_error(compare_yaml):
    path, _, _ = compare_yaml
    cfg = yaml.safe_load(path.read_text())
    del cfg["ranked"]
    cfg["methods"] = ["rule", "random"]
    path.write_text(yaml.safe_dump(cfg))
    r = run_cli("select-compare", path)
    assert r.returncode == 1 and "method rule" in r.stderr and "instructmine rank" in r.stderr


def test_ci_and_verdict():
    rand = [1.0, 1.1, 0.9]
    d, lo, hi = diff_ci([0.5], rand)
    # one method seed: prediction interval with random's sd, t(0.975, df=2) = 4.303
    half = 4.302652729911275 * 0.1 * (1 + 1 / 3) ** 0.5
    assert d == pytest.approx(-0.5) and lo == pytest.approx(-0.5 - half)
    assert hi == pytest.approx(-0.5 + half)
    rows, verdict = compare_table({"rule": [0.5], "ifd": [1.05], "random": rand}, n=10)
    assert [r.call for r in rows] == ["better", "cannot tell", ""]
    assert verdict.startswith("winner: rule")
    _, verdict = compare_table({"rule": [0.98, 1.02], "random": rand}, n=10)
    assert verdict.startswith("cannot tell")
    _, verdict = compare_table({"rule": [2.0], "random": rand}, n=10)
    assert verdict.startswith("winner: random")


def test_lora_objective_trains_each_unit_with_its_seed(compare_yaml, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "imcache"))
    path, _, _ = compare_yaml
    cfg = yaml.safe_load(path.read_text())
    model = cfg.pop("proxy")["model"]
    cfg.update(
        objective="lora",
        methods=["rule", "random"],
        n=6,
        seeds=[0],
        out="cmp_lora",
        train={
            "model": model,
            "max_length": 512,
            "eval_max_records": 4,
            "lora": {"r": 4},
            "sft": {"learning_rate": 3e-3, "max_steps": 2, "per_device_train_batch_size": 4},
        },
    )
    path.write_text(yaml.safe_dump(cfg))
    result = run_compare(load_compare_config(path))
    assert [r.method for r in result.rows] == ["rule", "random"] and result.ran == 4
    assert result.objective == "lora" and result.model == model
    for row in _rows(tmp_path / "cmp_lora" / "results.jsonl"):
        run = tmp_path / "cmp_lora" / "runs" / row["key"].replace(":", "_")
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["eval_loss_after"] == row["loss"] and metrics["n_records"] == 6
        assert yaml.safe_load((run / "config.yaml").read_text())["seed"] == row["seed"]
        assert metrics["eval"]["data"] == cfg["eval"]
