"""Every verb with ``--json`` on tiny real inputs: stdout is one JSON document, nothing else.

Also: every verb's ``--help`` shows the shared options where they apply (``--json`` on every
verb that prints a summary, ``--set`` on every verb that takes a config, ``-o/--out`` for
outputs). In-process (typer's CliRunner, stdout and stderr apart) so torch loads once.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from instructmine.cli import app
from shared_paths import FIXTURES, REPO, tiny_proxy

sys.path.insert(0, str(REPO / "tests" / "rule"))
sys.path.insert(0, str(REPO / "tests" / "search"))
from helpers_rule import draw, write

# verb -> shared options its --help must show (demo prints a narrative, not a summary)
SHARED = {
    "ingest": {"--json", "--out"},
    "inspect": {"--json"},
    "export": {"--json", "--out"},
    "dedup": {"--json", "--out"},
    "decontaminate": {"--json", "--out", "--set"},
    "score": {"--json", "--out", "--set"},
    "indicators": {"--json"},
    "eval": {"--json", "--out", "--set"},
    "train": {"--json", "--out", "--set"},
    "select": {"--json", "--out"},
    "select-compare": {"--json", "--set"},
    "search-size": {"--json", "--set"},
    "mix build": {"--json", "--out", "--set"},
    "mix grid": {"--json", "--set"},
    "mix summary": {"--json", "--out", "--set"},
    "mix optimise": {"--json", "--out"},
    "experiments run": {"--json", "--set"},
    "experiments aggregate": {"--json", "--set"},
    "experiments trunk": {"--json", "--out", "--set"},
    "fit": {"--json", "--out"},
    "rank": {"--json", "--out"},
    "rules": {"--json"},
    "compare": {"--json", "--out"},
    "demo": {"--out"},
    # scorer verbs run with --json on real judgement files in tests/scorer/test_scorer.py
    "scorer pool": {"--json", "--out"},
    "scorer train": {"--json", "--out"},
    "scorer eval": {"--json"},
    "scorer sample": {"--json", "--out"},
}


def verbs() -> list[str]:
    """Every command of the application, sub-commands as ``group verb``."""
    import typer

    root = typer.main.get_command(app)
    names = []
    for name, cmd in root.commands.items():
        sub = getattr(cmd, "commands", None)
        names += [f"{name} {s}" for s in sub] if sub else [name]
    return sorted(names)


def test_the_table_above_lists_every_verb():
    assert sorted(SHARED) == verbs()


@pytest.mark.parametrize("verb", sorted(SHARED))
def test_help_shows_the_shared_options(verb):
    import typer

    cmd = typer.main.get_command(app)
    for part in verb.split():
        cmd = cmd.commands[part]
    shown = {o for p in cmd.params if not getattr(p, "hidden", False) for o in p.opts}
    assert SHARED[verb] <= shown, (verb, shown)
    if "--out" in SHARED[verb]:
        assert "-o" in shown
    res = CliRunner().invoke(app, [*verb.split(), "--help"], env={"COLUMNS": "200"})
    assert res.exit_code == 0 and all(o in res.stdout for o in SHARED[verb])


def run_json(*args) -> dict | list:
    res = CliRunner().invoke(app, [*map(str, args), "--json"], env={"COLUMNS": "200"})
    assert res.exit_code == 0, (args, res.stdout, res.stderr, res.exception)
    return json.loads(res.stdout)  # the whole of stdout


@pytest.fixture(scope="module")
def ws(tmp_path_factory, tiny_llama_dir):
    """A 24-record pool, a 6-record eval pool, its mtld scores, a one-term rule, a ranking."""
    from instructmine.io import ingest
    from instructmine.rule.rank import rank_pool
    from instructmine.rule.rules import Rule, RuleTerm
    from instructmine.scoring import score_pool

    d = tmp_path_factory.mktemp("json_ws")
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (d / "pool.json").write_text(json.dumps(recs[:24]))
    (d / "eval.json").write_text(json.dumps(recs[24:30]))
    ingest([d / "pool.json"], d / "pool.parquet")
    ingest([d / "eval.json"], d / "eval.parquet")
    score_pool(d / "pool.parquet", d / "scores", ["mtld"], progress=False)
    rule = Rule(name="t", intercept=0.5, terms=[RuleTerm(aggregate="mtld.mean", coef=0.1, mean=50,
                                                         std=10)])  # fmt: skip
    (d / "rule.json").write_text(rule.model_dump_json())
    rank_pool(d / "scores", d / "rule.json", d / "ranked.parquet")
    write(d / "table.jsonl", draw(30, {"mtld.mean": 0.0045}, seed=3)[0])
    return d, tiny_llama_dir


def test_data_verbs(ws, tmp_path):
    d, _ = ws
    assert run_json("ingest", d / "pool.json", "-o", tmp_path / "p.parquet")["kept"] == 24
    assert run_json("inspect", d / "pool.parquet")["records"] == 24
    assert run_json("export", d / "pool.parquet", "-o", tmp_path / "x.jsonl")["written"] == 24
    assert run_json("dedup", d / "pool.parquet", "-o", tmp_path / "d.parquet")["kept"] <= 24
    doc = run_json("score", d / "pool.parquet", "-o", tmp_path / "s", "-i", "mtld")
    assert "mtld" in json.dumps(doc)
    assert any(r["name"] == "mtld" for r in run_json("indicators"))


def test_rule_and_select_verbs(ws, tmp_path):
    d, _ = ws
    assert {r["name"] for r in run_json("rules")} >= {"paper-final"}
    fitted = run_json("fit", d / "table.jsonl", "-o", tmp_path / "r.json", "--n-boot", 20)
    assert fitted["rule"]["terms"] and fitted["out"] == str(tmp_path / "r.json")
    assert run_json("compare", d / "table.jsonl", "--n-boot", 50)["held_out_ids"]
    ranked = run_json("rank", d / "scores", "--rule", d / "rule.json", "-o", tmp_path / "r.pq")
    assert ranked["records"] == 24
    sel = run_json("select", d / "ranked.parquet", "-o", tmp_path / "s.parquet", "--top", 5,
                   "--pool", d / "pool.parquet")  # fmt: skip
    assert sel["selected"] == 5 and len(sel["ids"]) == 5


def test_train_and_eval(ws, tmp_path):
    d, tiny = ws
    cfg = tmp_path / "train.yaml"
    cfg.write_text(yaml.safe_dump({"max_length": 48, "max_records": 8, "sft": {"max_steps": 1}}))
    doc = run_json("train", cfg, "--data", d / "pool.parquet", "--model", tiny, "-o",
                   tmp_path / "run", "--set", "lora.r=4")  # fmt: skip
    assert doc["steps"] == 1
    data = tmp_path / "data" / "self_instruct_user_oriented"
    data.mkdir(parents=True)
    si = {"id": "t0", "motivation_app": "a", "instruction": "Say hi.",
          "instances": [{"input": "", "output": "hi!"}]}  # fmt: skip
    (data / "user_oriented_instructions.jsonl").write_text(json.dumps(si) + "\n")
    doc = run_json("eval", tiny, "--suite", "loss", "--loss-sets", "self_instruct", "--data-dir",
                   tmp_path / "data", "-o", tmp_path / "e.json", "--limit", 1)  # fmt: skip
    assert "loss" in doc["results"]


def test_experiments_verbs(ws, tmp_path):
    d, tiny = ws
    from instructmine.scoring import score_pool

    # three sources so the sampler has something to mix
    t = pq.read_table(d / "pool.parquet")
    t = t.set_column(1, "source", pa.array(["a", "b", "c"] * 8))
    pq.write_table(t, tmp_path / "pool.parquet")
    score_pool(tmp_path / "pool.parquet", tmp_path / "scores", ["mtld"], progress=False)
    cfg = tmp_path / "experiments.yaml"
    cfg.write_text(yaml.safe_dump({
        "pool": str(tmp_path / "pool.parquet"), "scores": str(tmp_path / "scores"),
        "eval": str(d / "eval.parquet"), "out": "experiments.jsonl", "work_dir": "work",
        "trunk_dir": "trunk", "proxy": tiny_proxy(tiny),
        "sampling": {"k": 2, "n_records": 8, "noise_subsets": 0},
    }))  # fmt: skip
    assert run_json("experiments", "run", cfg, "--no-progress")
    assert run_json("experiments", "aggregate", cfg) is not None
    trunk = run_json("experiments", "trunk", d / "pool.parquet", d / "eval.parquet", "-o",
                     tmp_path / "trunk2", "--set", f"model={tiny}", "--set", "cached_layers=1",
                     "--no-progress")  # fmt: skip
    assert Path(trunk["path"]).exists()


def test_select_compare_and_search_size(ws, tmp_path):
    d, tiny = ws
    cfg = tmp_path / "compare.yaml"
    cfg.write_text(yaml.safe_dump({
        "pool": str(d / "pool.parquet"), "eval": str(d / "eval.parquet"),
        "ranked": str(d / "ranked.parquet"), "n": 8, "out": "cmp", "seeds": [0],
        "random_seeds": [0, 1, 2], "objective": "proxy", "proxy": tiny_proxy(tiny),
    }))  # fmt: skip
    doc = run_json("select-compare", cfg, "--set", "methods=[rule,random]")
    assert doc["rows"]
    search = tmp_path / "search.yaml"
    search.write_text(yaml.safe_dump({
        "objective": {"factory": "cheap_objective:two_minima", "params": {}},
        "out": str(tmp_path / "search"), "lo": 50, "hi": 20000, "trials": 6,
        "baseline": "none",
    }))  # fmt: skip
    assert run_json("search-size", search, "--set", "trials=5")["best_n"]


UNIT = """
def unit(inp):
    from instructmine.io.pool import read_pool

    n = 0 if inp.pool is None else read_pool(inp.pool).num_rows
    r = inp.mixture.fractions(sorted(inp.categories))
    return {"chat": r["A"] + 0.5 * r["C"], "code": r["C"], "nlp": r["P"] - 0.3 * r["A"], "n": n}
"""


def test_mix_verbs(ws, tmp_path, monkeypatch):
    d, _ = ws
    (tmp_path / "json_unit.py").write_text(UNIT)
    monkeypatch.syspath_prepend(str(tmp_path))
    from instructmine.io import ingest

    pools = {}
    for name, cat, file in (("A", "chat", "alpaca_5000.json"),
                            ("C", "code", "code_alpaca_2k.json.gz"),
                            ("P", "nlp", "p3_ag_news.jsonl.gz")):  # fmt: skip
        ingest([FIXTURES / file], tmp_path / f"{name}.parquet")
        pools[name] = {"pool": str(tmp_path / f"{name}.parquet"), "category": cat}
    spec = tmp_path / "mix.yaml"
    weighted = {n: {**c, "weight": 1} for n, c in pools.items()}
    spec.write_text(yaml.safe_dump({"total": 9, "components": weighted}))
    built = run_json("mix", "build", spec, "-o", tmp_path / "m.parquet", "--set", "seed=2")
    assert built["total"] == 9
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump({"out": "out", "per_type": 4, "seeds": [0],
                                    "components": pools, "unit": "json_unit:unit"}))  # fmt: skip
    assert len(run_json("mix", "grid", grid)["mixtures"]) == 8
    assert run_json("mix", "grid", grid, "--run")["rows"] == 8
    assert "report" in run_json("mix", "summary", grid)
    doc = run_json("mix", "optimise", tmp_path / "out" / "results.jsonl", "--weights",
                   "code=1,chat=1", "--bootstrap", 10, "--no-plot")  # fmt: skip
    assert set(doc["proposal"]["ratio"]) == {"A", "C", "P"}
    # -o onto a file instructmine did not write is refused, kept byte for byte, then forced
    for verb in (["mix", "summary", grid],
                 ["mix", "optimise", tmp_path / "out" / "results.jsonl", "--weights", "code=1",
                  "--bootstrap", 5, "--no-plot"]):  # fmt: skip
        mine = tmp_path / f"mine_{verb[1]}.md"
        mine.write_text("my own notes\n")
        res = CliRunner().invoke(app, [*map(str, verb), "-o", str(mine)])
        assert res.exit_code != 0 and "--overwrite" in res.stderr, (verb, res.stderr)
        assert mine.read_text() == "my own notes\n"
        assert run_json(*verb, "-o", mine, "--overwrite")
        assert run_json(*verb, "-o", mine)  # now instructmine's own: a re-run needs no flag
