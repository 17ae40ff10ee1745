"""LoRA fine-tuning of the offline SmolLM2 on real Alpaca records lowers the eval loss on the
Self-Instruct user-oriented set (DESIGN §5 model, ../shared/data).

A smaller version of the issue's 200-record run (whose numbers are in docs/training.md), so
the suite stays within its time budget: 64 records, 8 steps, eval on 24 instructions.
"""

from pathlib import Path

import pytest

from instructmine.train import TrainConfig, load_run, train

SHARED = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data").resolve()


@pytest.mark.integration
@pytest.mark.slow
def test_lora_on_alpaca_lowers_self_instruct_eval_loss(tmp_path):
    from instructmine.io import ingest

    if not SHARED.is_dir():
        pytest.skip(f"integration data not found at {SHARED} (present in the project's CI)")
    pool, eval_pool = tmp_path / "alpaca.parquet", tmp_path / "si.parquet"
    ingest([str(SHARED / "alpaca_5000" / "alpaca_5000.json.gz")], pool)
    si = SHARED / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"
    ingest([str(si)], eval_pool)
    cfg = TrainConfig(
        model="smollm2-135m-instruct",
        max_records=64,
        max_length=192,
        eval_data=eval_pool,
        eval_max_records=24,
        eval_max_length=384,
    )
    result = train(pool, tmp_path / "run", cfg, progress=False)
    assert result.n_records == 64 and result.steps == 8
    assert result.eval_loss_after < result.eval_loss_before
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in result.provenance
    assert load_run(tmp_path / "run") == result
