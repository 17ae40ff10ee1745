"""The paper grid's unit of work, end to end on a tiny model: fine-tune, evaluate, skills."""

import math

from instructmine.mix.grid import GridConfig, read_results, results_path, run_grid


def test_finetune_and_evaluate_unit_on_a_tiny_model(pools, tiny_llama_dir, tmp_path):
    from shared_paths import shared_data_or_skip

    data = shared_data_or_skip()
    cfg = GridConfig(
        components={
            "A": {"pool": pools["alpaca"], "category": "chat"},
            "C": {"pool": pools["codealpaca"], "category": "code"},
        },
        per_type=4,
        combinations=False,
        sweeps=[{"component": "C", "ratios": [1], "total": 8}],
        out=tmp_path / "grid",
        unit="instructmine.mix.units:finetune_and_evaluate",
        unit_options={
            "train": {
                "model": str(tiny_llama_dir),
                "max_length": 128,
                "sft": {"max_steps": 2, "per_device_train_batch_size": 4},
            },
            "eval": {"data_dir": str(data), "limit": 2},
            "suites": ["loss"],
            "skills": {"chat": "-loss/self_instruct", "code": "-loss/humaneval_solutions"},
        },
    )
    cfg.unit_options["eval"]["loss_sets"] = ["self_instruct", "humaneval_solutions"]
    run_grid(cfg)
    rows = {r["mixture"]: r for r in read_results(results_path(cfg))}
    assert set(rows) == {"None", "C:rest=1"}
    for row in rows.values():
        res = row["results"]
        assert res["chat"] == -res["loss/self_instruct"] and math.isfinite(res["code"])
    assert rows["None"]["results"] != rows["C:rest=1"]["results"]  # the fine-tune moved it
    assert (tmp_path / "grid" / "mixtures" / "C_rest=1" / "seed0" / "run" / "metrics.json").exists()
