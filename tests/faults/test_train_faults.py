"""Training under faults (issue 31, items 1 and 14): ``train --overwrite`` never deletes the
finished run before the new one is complete. A new run that fails a check (``max_length=8``
leaves no assistant token), hits a full disk, or is interrupted or killed at a random point
leaves the previous run byte for byte, no empty folder and no ``trainer/`` folder."""

from __future__ import annotations

import random
import shutil
import signal

import pytest
from fault_helpers import file_size_limit, leftovers, one_line_error, run, signal_during, snapshot

from instructmine.train import RunDirError, TrainConfig, train

FAST = {"per_device_train_batch_size": 8, "num_train_epochs": 1}


@pytest.fixture(scope="module")
def finished_once(tiny_llama_dir, train_pool, tmp_path_factory):
    cfg = TrainConfig(model=str(tiny_llama_dir), max_length=48, max_records=16, sft=FAST)
    out = tmp_path_factory.mktemp("finished") / "run"
    train(train_pool, out, cfg, progress=False)
    return cfg, out


@pytest.fixture
def finished(finished_once, tmp_path):
    """A copy of a finished run (``runs/run``) and its config."""
    cfg, src = finished_once
    out = tmp_path / "runs" / "run"
    shutil.copytree(src, out)
    return cfg, out


def _args(pool, model, out, *more):
    return ["train", "--data", pool, "--model", model, "--out", out, "--overwrite", *more]


def test_overwrite_that_fails_a_check_keeps_the_finished_run(finished, train_pool):
    cfg, out = finished
    before = snapshot(out)
    with pytest.raises(ValueError, match="assistant"):
        train(train_pool, out, cfg.model_copy(update={"max_length": 8}), False, overwrite=True)
    assert snapshot(out) == before
    assert leftovers(out.parent) == []


def test_overwrite_on_a_full_disk_keeps_the_finished_run(finished, train_pool):
    cfg, out = finished
    before = snapshot(out)
    with file_size_limit(20_000), pytest.raises(Exception, match="27|large"):
        train(train_pool, out, cfg.model_copy(update={"seed": 7}), False, overwrite=True)
    assert snapshot(out) == before
    assert leftovers(out.parent) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_signal_at_a_random_point_keeps_the_finished_run(
    finished, train_pool, tiny_llama_dir, tmp_path, sig
):
    cfg, out = finished
    before = snapshot(out)
    delay = random.Random(31 + sig).uniform(0.0, 1.0)
    runs = out.parent

    def started():
        return any(p.name.startswith(".tmp-") for p in runs.iterdir())

    args = _args(train_pool, tiny_llama_dir, out, "--set", "max_length=48")
    args += ["--set", "sft.max_steps=100000"]
    r = signal_during(*args, cwd=tmp_path, sig=sig, delay=delay, started=started)
    assert snapshot(out) == before
    if sig == signal.SIGINT:
        assert r.returncode == 130, r.stderr
        assert "is as it was" in one_line_error(r.stderr)
        assert leftovers(runs) == []
    else:
        assert r.returncode == -signal.SIGKILL
        with pytest.raises(ValueError):  # the next run (one failing its check) cleans up
            train(train_pool, out, cfg.model_copy(update={"max_length": 8}), False, True)
        assert leftovers(runs) == []
        assert snapshot(out) == before


def test_a_folder_holding_other_files_is_refused(train_pool, tiny_llama_dir, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="notes.txt"):
        train(train_pool, out, TrainConfig(model=str(tiny_llama_dir)), False, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine"
    r = run("train", "--data", train_pool, "--model", tiny_llama_dir, "--out", out, cwd=tmp_path)
    assert r.returncode == 1
    assert "notes.txt" in one_line_error(r.stderr)
