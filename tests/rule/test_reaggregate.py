"""`experiments aggregate`: recompute a table's aggregates from the run's specs and new scores."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from instructmine.rule.experiments_config import load_config
from instructmine.rule.reaggregate import ReaggregateError, reaggregate
from shared_paths import run_cli

IDS = [f"r{i}" for i in range(30)]
SOURCES = ["alpha" if i % 2 else "beta" for i in range(30)]
RNG = np.random.default_rng(0)
MTLD = RNG.normal(60, 10, 30)
REWARD = RNG.normal(0, 1, 30)
PPL = RNG.lognormal(2, 0.5, 30)
SUBSETS = {"mix000": [0, 3, 4, 9, 12, 20], "mix001": [1, 2, 5, 6, 7], "strat002": [10, 11, 25]}


def _scores(folder, columns):
    folder.mkdir()
    files = {}
    for name, values in columns.items():
        path = folder / f"{name}.parquet"
        pq.write_table(pa.table({"id": IDS, name: values}), path)
        files[name] = str(path)
    (folder / "scores.json").write_text(json.dumps({"files": files}))
    return folder


@pytest.fixture
def run(tmp_path):
    """A finished run scored with mtld only: config, specs, table; and a folder of indicators
    scored later (reward, perplexity)."""
    _scores(tmp_path / "scores_old", {"mtld": MTLD})
    new = _scores(tmp_path / "scores_new", {"reward": REWARD, "perplexity": PPL})
    work = tmp_path / "work"
    work.mkdir()
    specs, rows = [], []
    for sid, members in SUBSETS.items():
        ids = [IDS[i] for i in members]
        sources = {}
        for i in members:
            sources[SOURCES[i]] = sources.get(SOURCES[i], 0) + 1
        sources = dict(sorted(sources.items()))
        for seed in (0, 1) if sid == "mix000" else (0,):
            eid = f"{sid}-s{seed}"
            aggs = {"mtld.mean": float(MTLD[members].mean())}
            common = {"experiment_id": eid, "subset_id": sid, "seed": seed, "sources": sources}
            specs.append({**common, "record_ids": ids, "aggregates": aggs})
            rows.append(
                {
                    **common,
                    "n_records": len(ids),
                    "eval_loss": 2.5 + seed / 100,
                    "base_eval_loss": 2.6,
                    "seconds": 3.0,
                    "protocol": "p1",
                    **aggs,
                }
            )
    (work / "specs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in specs))
    table = tmp_path / "experiments.jsonl"
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = {"pool": "pool.parquet", "scores": "scores_old", "eval": "eval.parquet",
           "out": "experiments.jsonl", "work_dir": "work"}  # fmt: skip
    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(cfg))
    return {"yaml": tmp_path / "exp.yaml", "table": table, "new": new, "rows": rows, "work": work}


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_adds_the_new_indicators_and_keeps_the_losses(run):
    s = reaggregate(load_config(run["yaml"]), [run["new"]])
    assert s.rows == 4
    assert s.added == ["perplexity.mean", "perplexity.median", "reward.mean"]
    got = _read(run["table"])
    for before, after in zip(run["rows"], got, strict=True):
        members = SUBSETS[before["subset_id"]]
        assert {k: after[k] for k in before} == before  # losses, ids, old aggregates unchanged
        assert after["reward.mean"] == pytest.approx(REWARD[members].mean())
        assert after["perplexity.median"] == pytest.approx(np.median(PPL[members]))
    # the default scores folder (the config's, mtld only) recomputes to the same table
    s = reaggregate(load_config(run["yaml"]))
    assert s.added == [] and s.kept_without_scores == [
        "perplexity.mean",
        "perplexity.median",
        "reward.mean",
    ]
    assert _read(run["table"]) == got


def test_pinned_indicators_still_get_the_new_ones(run):
    cfg = load_config(run["yaml"])
    cfg = cfg.model_copy(
        update={"sampling": cfg.sampling.model_copy(update={"indicators": ["mtld"]})}
    )
    assert reaggregate(cfg, [run["new"]]).added == [
        "perplexity.mean",
        "perplexity.median",
        "reward.mean",
    ]


def test_refuses_a_corrupt_line_and_drops_a_killed_writers_remnant(run):
    text = run["table"].read_text()
    run["table"].write_text(text + '{"experiment_id": "half')
    reaggregate(load_config(run["yaml"]), [run["new"]])
    assert len(_read(run["table"])) == 4
    lines = run["table"].read_text().splitlines(keepends=True)
    run["table"].write_text("".join([lines[0], "{oops\n", *lines[1:]]))
    _refused(run, "experiments.jsonl:2: not valid JSON")


def _refused(run, match):
    before = run["table"].read_bytes()
    with pytest.raises(ReaggregateError, match=match):
        reaggregate(load_config(run["yaml"]), [run["new"]])
    assert run["table"].read_bytes() == before  # all or nothing


def test_refuses_specs_describing_other_records(run):
    specs = _read(run["work"] / "specs.jsonl")
    specs[2]["record_ids"][0] = IDS[29]  # same size and sources, other records
    (run["work"] / "specs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in specs))
    _refused(run, "mix001-s0.*mtld.mean recomputes to .*cannot be reconstructed")


def test_refuses_a_row_without_a_spec_or_records_without_scores(run):
    specs = _read(run["work"] / "specs.jsonl")
    (run["work"] / "specs.jsonl").write_text(json.dumps(specs[0]) + "\n")
    _refused(run, "row 2: experiment 'mix000-s1' has no spec")
    specs[3]["record_ids"][-1] = "ghost"
    (run["work"] / "specs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in specs))
    _refused(run, r"records \['ghost'\].*strat002-s0.*not in the scores")
    (run["work"] / "specs.jsonl").unlink()
    _refused(run, "specs.jsonl: no specs file")


def test_aggregate_cli(run):
    r = run_cli("experiments", "aggregate", run["yaml"], "--scores", run["new"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["added"] == ["perplexity.mean", "perplexity.median", "reward.mean"]
    assert "reward.mean" in _read(run["table"])[0]
    (run["work"] / "specs.jsonl").unlink()
    r = run_cli("experiments", "aggregate", run["yaml"], "--scores", run["new"])
    assert r.returncode == 1 and "specs.jsonl" in r.stderr


def _run_layout(tmp_path, rule_data):
    """A run's real specs (``make_specs``) and a table of rows for them (made-up losses)."""
    from instructmine.rule.experiments import make_specs
    from instructmine.rule.experiments_config import ExperimentsConfig, SamplingConfig

    cfg = ExperimentsConfig(
        pool=rule_data["pool"],
        scores=rule_data["scores"],
        eval=rule_data["eval"],
        out=tmp_path / "experiments.jsonl",
        work_dir=tmp_path / "work",
        sampling=SamplingConfig(k=6, n_records=12, noise_subsets=1, noise_seeds=2),
    )
    specs = make_specs(cfg)
    cfg.work_dir.mkdir()
    (cfg.work_dir / "specs.jsonl").write_text("".join(json.dumps(s) + "\n" for s in specs))
    rows = [
        {
            "experiment_id": s["experiment_id"],
            "subset_id": s["subset_id"],
            "seed": s["seed"],
            "n_records": len(s["record_ids"]),
            "sources": s["sources"],
            "eval_loss": 2.0 + i / 100,
            "base_eval_loss": 2.5,
            "seconds": 1.0,
            "protocol": "p",
            **s["aggregates"],
        }
        for i, s in enumerate(specs)
    ]
    cfg.out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return cfg, specs


def test_real_specs_of_a_run_gain_an_indicator_scored_later(tmp_path, rule_data):
    cfg, specs = _run_layout(tmp_path, rule_data)
    ids = pq.read_table(rule_data["pool"], columns=["id"])["id"].to_pylist()
    reward = np.random.default_rng(1).normal(0, 1, len(ids))
    folder = tmp_path / "scores_rm"
    folder.mkdir()
    pq.write_table(pa.table({"id": ids, "reward": reward}), folder / "reward.parquet")
    (folder / "scores.json").write_text(
        json.dumps({"files": {"reward": str(folder / "reward.parquet")}})
    )
    s = reaggregate(cfg, [folder])
    assert s.rows == len(specs) and s.added == ["reward.mean"]
    where = {rid: i for i, rid in enumerate(ids)}
    for spec, row in zip(specs, _read(cfg.out), strict=True):
        want = reward[[where[r] for r in spec["record_ids"]]].mean()
        assert row["reward.mean"] == pytest.approx(want)
        assert row["mtld.mean"] == spec["aggregates"]["mtld.mean"]


def test_resumed_run_with_more_score_columns_is_refused(tmp_path, rule_data):
    from instructmine.rule.experiments import check_finished_specs, make_specs

    cfg, specs = _run_layout(tmp_path, rule_data)
    more = tmp_path / "scores_more"
    more.mkdir()
    files = json.loads((rule_data["scores"] / "scores.json").read_text())["files"]
    ids = pq.read_table(rule_data["pool"], columns=["id"])["id"].to_pylist()
    pq.write_table(
        pa.table({"id": ids, "aaa": np.arange(len(ids), dtype=float)}), more / "a.parquet"
    )
    files["aaa"] = str(more / "a.parquet")
    (more / "scores.json").write_text(json.dumps({"files": files}))
    resampled = make_specs(cfg.model_copy(update={"scores": more}))
    pairs = zip(specs, resampled, strict=True)
    moved = [a["experiment_id"] for a, b in pairs if a["record_ids"] != b["record_ids"]]
    assert moved and all(e.startswith("strat") for e in moved)  # strata cycle through columns
    check_finished_specs(cfg.work_dir / "specs.jsonl", specs, cfg.out)  # same specs: fine
    with pytest.raises(ValueError, match="other records than they trained on"):
        check_finished_specs(cfg.work_dir / "specs.jsonl", resampled, cfg.out)
    cfg.out.write_text("")  # nothing finished yet: re-sampling is allowed
    check_finished_specs(cfg.work_dir / "specs.jsonl", resampled, cfg.out)
