"""Every verb's stage function, re-run with the same inputs and config, reports the skip the
same way: ``skipped`` true on the result, its manifest on disk (the stage contract)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import yaml
from helpers_rule import draw, write

from shared_paths import FIXTURES, tiny_proxy

# The 13 verbs: ingest, score, train, eval | experiments, fit, rank, select, select-compare,
# search-size | mix build, mix grid, mix optimise (one test per line).


def cheap_objective(context, **params):
    """A search objective with its minimum near n = 400 (no model)."""
    return lambda trial: (math.log(trial.n) - 6.0) ** 2 + 1.0


def share_unit(inp):
    """A grid unit: one skill from the mixture's shares (no model)."""
    shares = inp.mixture.fractions(sorted(inp.categories))
    return {"skill": shares.get("A", 0.0) * (1.5 - shares.get("A", 0.0))}


def _twice(run) -> tuple:
    first, again = run(), run()
    assert first.skipped is False and again.skipped is True
    assert Path(again.manifest).is_file() and again.manifest == first.manifest
    return first, again


def test_ingest_score_train_eval(tmp_path, rule_data, tiny_llama_dir):
    from instructmine.evaluate.run import EvalConfig, evaluate
    from instructmine.io import ingest
    from instructmine.scoring import score_pool
    from instructmine.train import TrainConfig, train

    src = FIXTURES / "messages_mixed.jsonl"
    first, again = _twice(lambda: ingest([src], tmp_path / "pool.parquet"))
    assert again.kept == first.kept
    pool = rule_data["pool"]
    _twice(lambda: score_pool(pool, tmp_path / "scores", ["mtld"], progress=False))
    cfg = TrainConfig(
        model=str(tiny_llama_dir), method="full", max_length=48, max_records=16, seed=0,
        sft={"learning_rate": 3e-3, "max_steps": 2},
    )  # fmt: skip
    first, again = _twice(lambda: train(pool, tmp_path / "run", cfg, progress=False))
    assert again.final_loss == first.final_loss
    data = tmp_path / "evaldata" / "self_instruct_user_oriented"
    data.mkdir(parents=True)
    lines = (FIXTURES / "user_oriented_instructions.jsonl").read_text().splitlines()[:4]
    (data / "user_oriented_instructions.jsonl").write_text("\n".join(lines) + "\n")
    ecfg = EvalConfig(data_dir=str(tmp_path / "evaldata"), loss_sets=["self_instruct"])
    out = tmp_path / "results.json"
    first, again = _twice(lambda: evaluate(tiny_llama_dir, ["loss"], None, out, ecfg))
    assert again["results"] == json.loads(json.dumps(first["results"]))


def test_experiments_fit_rank_select_compare_search(
    tmp_path, rule_data, experiments_yaml, tiny_llama_dir
):
    from instructmine.rule.experiments import run_experiments
    from instructmine.rule.experiments_config import load_config
    from instructmine.rule.fit import FitConfig, fit_rule
    from instructmine.rule.rank import rank_pool
    from instructmine.search.config import SearchConfig
    from instructmine.search.run import run_search
    from instructmine.select.compare import run_compare
    from instructmine.select.compare_config import CompareConfig
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select

    cfg = load_config(experiments_yaml)
    first, again = _twice(lambda: run_experiments(cfg, progress=False))
    assert (first.ran, again.ran, again.done_before) == (5, 0, 5)
    rows, _ = draw(30, {"mtld.mean": 0.004}, seed=3)
    table = write(tmp_path / "synthetic.jsonl", rows)
    fit_cfg = FitConfig(select="none", n_boot=0, aggregates=["mtld.mean"])
    first, again = _twice(lambda: fit_rule(table, tmp_path / "rule.json", fit_cfg))
    assert again.rule == first.rule
    ranked = tmp_path / "ranked.parquet"
    _twice(lambda: rank_pool(rule_data["scores"], tmp_path / "rule.json", ranked))
    sel = SelectConfig(top=10)
    first, again = _twice(
        lambda: run_select(ranked, tmp_path / "top.parquet", sel, pool=rule_data["pool"])
    )
    assert again.ids == first.ids
    compare = CompareConfig(
        pool=rule_data["pool"], eval=rule_data["eval"], ranked=ranked, n=8, seeds=[0],
        random_seeds=[0, 1, 2], methods=["rule", "random"], out=tmp_path / "cmp",
        objective="proxy", proxy=tiny_proxy(tiny_llama_dir),
    )  # fmt: skip
    first, again = _twice(lambda: run_compare(compare))
    assert (again.ran, again.reused) == (0, first.ran) and again.verdict == first.verdict
    search = SearchConfig(
        objective={"factory": "test_every_verb_skips:cheap_objective"}, out=tmp_path / "s",
        lo=50, hi=5000, trials=4, grid=3, baseline="none",
    )  # fmt: skip
    first, again = _twice(lambda: run_search(search))
    assert again.best_n == first.best_n and again.ran == 0


def test_mix_build_grid_optimise(tmp_path, rule_data):
    from instructmine.mix.build import build_mixture
    from instructmine.mix.grid import grid_stage, load_grid
    from instructmine.mix.optimise import propose
    from instructmine.mix.spec import MixSpec

    comps = {"A": {"pool": str(rule_data["pool"]), "category": "chat"},
             "B": {"pool": str(rule_data["eval"]), "category": "nlp"}}  # fmt: skip
    spec = MixSpec.model_validate(
        {"components": {**{k: {**v, "count": 3} for k, v in comps.items()}}, "seed": 0}
    )
    first, again = _twice(lambda: build_mixture(spec, tmp_path / "mix.parquet"))
    assert again.ids == first.ids
    doc = {
        "components": comps, "per_type": 3, "out": "grid",
        "sweeps": [{"component": "A", "ratios": [0.5, 2, 3], "total": 6}],
    }  # fmt: skip
    (tmp_path / "grid.yaml").write_text(yaml.safe_dump(doc))
    cfg = load_grid(tmp_path / "grid.yaml")
    first, again = _twice(lambda: grid_stage(cfg, share_unit))
    assert again.rows == first.rows and len(first.rows) == 7
    results = cfg.out / "results.jsonl"
    out = tmp_path / "proposal.json"
    first, again = _twice(lambda: propose(results, out, {"skill": 1.0}, bootstrap=5))
    assert again.ratio == first.ratio
