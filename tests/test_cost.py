"""The cost model: parameter counts, and estimates that move the way the formulas say."""

import pytest

from instructmine import cost


def test_smollm2_shape_counts_its_parameters():
    assert cost.SMOLLM2_135M.params == pytest.approx(134.5e6, rel=1e-3)


def test_shape_from_a_transformers_config_matches_the_builtin():
    from transformers import LlamaConfig

    cfg = LlamaConfig(
        vocab_size=49152,
        hidden_size=576,
        intermediate_size=1536,
        num_hidden_layers=30,
        num_attention_heads=9,
        num_key_value_heads=3,
    )
    assert cost.ModelShape.from_hf_config(cfg) == cost.SMOLLM2_135M


def test_scoring_time_is_linear_in_records_and_grows_with_tokens():
    one = cost.scoring_seconds(1000, 108, 60)
    assert cost.scoring_seconds(2000, 108, 60) == pytest.approx(2 * one)
    assert cost.scoring_seconds(1000, 216, 120) > 1.8 * one
    # calibration point of docs/cost.md: alpagasus 9k, 0.436 s a record
    assert 1.0 / cost.scoring_records_per_second(108.1, 59.7) == pytest.approx(0.436, rel=0.05)


def test_memory_knobs_cut_the_training_peak():
    old = cost.training_peak_gb("lora", micro_batch_tokens=0, loss_chunk=0)
    new = cost.training_peak_gb("lora")
    assert new < old
    assert cost.training_peak_gb("lora", micro_batch_tokens=256) < new
    full = cost.training_peak_gb("full")
    assert full > new  # gradients and AdamW moments of every weight
    proxy = cost.training_peak_gb("full", trained_layers=10)
    assert proxy < full


def test_proxy_costs_less_with_more_cached_layers():
    assert cost.proxy_seconds(cached_layers=24) < cost.proxy_seconds(cached_layers=20)
    assert cost.proxy_seconds(steps=72) > cost.proxy_seconds(steps=36)


def test_describe():
    assert cost.describe(12.4) == "12 s"
    assert cost.describe(250) == "4 min 10 s"
    assert cost.describe(3900) == "1 h 05 min"
    assert cost.describe(float("nan")) == "unknown"
