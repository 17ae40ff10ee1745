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
from shared_paths import FIXTURES, run_cli


@pytest.fixture
def compare_yaml(tmp_path, tiny_llama_dir):
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (tmp_path / "pool.json").write_text(json.dumps(recs[:24]))
    ingest([tmp_path / "pool.json"], tmp_path / "pool.parquet")
    (tmp_path / "eval.json").write_text(json.dumps(recs[24:30]))
    ingest([tmp_path / "eval.json"], tmp_path / "eval.parquet")
    t = read_pool(tmp_path / "pool.parquet")
    # the "rule": shorter answers first
    lengths = [float(len(m[-1]["content"])) for m in t["messages"].to_pylist()]
    pq.write_table(
        pa.table({"id": t["id"], "predicted_log_loss": lengths}), tmp_path / "ranked.parquet"
    )
    tiny = {"model": str(tiny_llama_dir), "max_length": 64}
    score_pool(
        tmp_path / "pool.parquet",
        tmp_path / "scores",
        ["ifd"],
        params={"ifd": tiny},
        progress=False,
    )
    cfg = {
        "pool": "pool.parquet",
        "eval": "eval.parquet",
        "ranked": "ranked.parquet",
        "scores": "scores",
        "n": 8,
        "out": "cmp",
        "seeds": [0, 1],
        "random_seeds": [0, 1, 2],
        "objective": "proxy",
        "proxy": {
            "model": str(tiny_llama_dir),
            "cached_layers": 1,
            "steps": 3,
            "batch_size": 4,
            "max_length": 64,
            "eval_max_records": 6,
            "lr": 1e-3,
            "threads": 1,
        },
    }
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path, lengths, t["id"].to_pylist()


def _rows(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_compare_every_method_real_seeds_and_resume(compare_yaml, tmp_path):
    path, lengths, ids = compare_yaml
    r = run_cli("select-compare", path)
    assert r.returncode == 0, r.stderr
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


def test_explicit_method_without_its_input_is_an_error(compare_yaml):
    path, _, _ = compare_yaml
    cfg = yaml.safe_load(path.read_text())
    del cfg["ranked"]
    cfg["methods"] = ["rule", "random"]
    path.write_text(yaml.safe_dump(cfg))
    r = run_cli("select-compare", path)
    assert r.returncode == 1 and "method rule" in r.stderr and "rule rank" in r.stderr


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
