"""Training config: unknown keys are errors, YAML files and --set overrides compose."""

import pytest
from pydantic import ValidationError

from instructmine.overrides import apply_override
from instructmine.train.config import TrainConfig, load_config
from instructmine.train.fit import sft_settings


def test_unknown_top_level_and_nested_keys_are_rejected():
    with pytest.raises(ValidationError, match="learnig_rate"):
        TrainConfig.model_validate({"learnig_rate": 1e-4})
    with pytest.raises(ValidationError, match="rank"):
        TrainConfig.model_validate({"lora": {"rank": 8}})
    with pytest.raises(ValidationError):
        TrainConfig.model_validate({"method": "prefix"})


def test_unknown_sft_key_lists_close_matches():
    with pytest.raises(ValidationError) as err:
        TrainConfig.model_validate({"sft": {"learning_rat": 1e-4}})
    assert "sft.learning_rat" in str(err.value)
    assert "learning_rate" in str(err.value)


def test_sft_keys_managed_by_the_trainer_point_to_the_top_level_setting():
    with pytest.raises(ValidationError, match="top-level setting max_length"):
        TrainConfig.model_validate({"sft": {"max_length": 128}})
    with pytest.raises(ValidationError, match="output_dir"):
        TrainConfig.model_validate({"sft": {"output_dir": "/tmp/x"}})


def test_yaml_then_fields_then_overrides(tmp_path):
    f = tmp_path / "cfg.yaml"
    f.write_text("model: from-file\nmax_length: 128\nlora:\n  r: 4\nsft:\n  learning_rate: 0.001\n")
    cfg = load_config(
        f,
        ["lora.r=8", "sft.learning_rate=1e-4", "lora.target_modules=[q_proj, v_proj]"],
        model="from-cli",
        method=None,
    )
    assert cfg.model == "from-cli"
    assert cfg.max_length == 128
    assert cfg.lora.r == 8
    assert cfg.lora.target_modules == ["q_proj", "v_proj"]
    assert cfg.sft == {"learning_rate": 1e-4}
    assert isinstance(cfg.sft["learning_rate"], float)


def test_bad_override_and_bad_file_are_clear(tmp_path):
    with pytest.raises(ValueError, match="key=value"):
        apply_override({}, "lora.r")
    with pytest.raises(ValueError, match="not a section"):
        apply_override({"lora": 3}, "lora.r=8")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    with pytest.raises(ValueError, match="mapping"):
        load_config(bad)
    with pytest.raises(ValidationError, match="nope"):
        load_config(None, ["nope=1"])


def test_cpu_defaults_and_passthrough(tmp_path):
    cfg = TrainConfig(sft={"learning_rate": 5e-4, "max_steps": 3})
    s = sft_settings(cfg, tmp_path, cuda=False)
    assert s["bf16"] is False and s["use_cpu"] is True
    assert s["activation_checkpointing"] is False
    assert s["report_to"] == "none"
    assert s["learning_rate"] == 5e-4 and s["max_steps"] == 3
    assert s["padding_free"] is False and s["max_length"] is None
    assert s["train_sampling_strategy"] == "group_by_length"
    packed = sft_settings(TrainConfig(packing=True, max_length=64), tmp_path, cuda=False)
    assert packed["packing"] is True and packed["max_length"] == 64
    assert packed["padding_free"] is True  # trl's BFD packing is padding-free
    # A user asking for checkpointing gets it.
    ck = sft_settings(TrainConfig(sft={"gradient_checkpointing": True}), tmp_path, cuda=False)
    assert "activation_checkpointing" not in ck
