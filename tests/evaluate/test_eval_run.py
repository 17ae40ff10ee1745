"""evaluate() end to end on a tiny model: results JSON, provenance, resume; CLI errors."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from instructmine.cli import app
from instructmine.evaluate.run import EvalConfig, evaluate


@pytest.fixture
def mini_dirs(tmp_path):
    bench = tmp_path / "benchmarks" / "arc_easy"
    bench.mkdir(parents=True)
    arc = [
        {
            "id": f"q{i}",
            "question": {
                "stem": f"Question {i}?",
                "choices": [{"text": "yes", "label": "A"}, {"text": "no", "label": "B"}],
            },
            "answerKey": "AB"[i % 2],
        }
        for i in range(4)
    ]
    (bench / "ARC-Easy-Dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in arc))
    si = tmp_path / "data" / "self_instruct_user_oriented"
    si.mkdir(parents=True)
    recs = [
        {
            "id": f"t{i}",
            "motivation_app": "app",
            "instruction": f"Say {w}.",
            "instances": [{"input": "", "output": f"{w}!"}],
        }
        for i, w in enumerate(["hello", "yes", "good morning"])
    ]
    (si / "user_oriented_instructions.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in recs)
    )
    return tmp_path / "benchmarks", tmp_path / "data"


def test_evaluate_writes_results_and_resumes(tiny_llama_dir, mini_dirs, tmp_path, monkeypatch):
    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "cache"))
    bench, data = mini_dirs
    cfg = EvalConfig(
        benchmarks_dir=str(bench),
        data_dir=str(data),
        nlp_tasks=["arc_easy"],
        code_limit=2,
        code_max_new_tokens=8,
        loss_sets=["self_instruct"],
        batch_size=2,
    )
    out = tmp_path / "results.json"
    labels = []

    def progress(label, total):
        labels.append(label)
        return lambda n=1: None

    doc = evaluate(tiny_llama_dir, ["nlp", "code", "loss"], None, out, cfg, progress)
    saved = json.loads(out.read_text())
    assert saved["results"] == json.loads(json.dumps(doc["results"]))
    assert set(saved["results"]) == {"nlp", "code", "loss"}
    nlp = saved["results"]["nlp"]["arc_easy"]
    assert nlp["n_items"] == 4 and 0 <= nlp["acc"] <= 1 and nlp["chance"] == 0.5
    he = saved["results"]["code"]["humaneval"]
    assert he["n_problems"] == 2 and he["pass@1"] == 0.0  # a random tiny model writes no code
    assert all(s in ("failed", "timeout") for p in he["problems"] for s in p["statuses"])
    loss = saved["results"]["loss"]["self_instruct"]
    assert loss["n_items"] == 3 and loss["loss"] > 0 and loss["engine"].startswith("instructmine")
    assert saved["target"]["name"] == str(tiny_llama_dir)
    assert saved["provenance"]["code"]["sandbox"]["isolation"] in ("namespaces", "audit-hook")
    assert {"nlp_mean_acc", "coding_humaneval_pass@1", "eval_loss"} <= set(saved["skills"])
    assert labels == [
        "nlp",
        "code humaneval: generate",
        "code humaneval: execute",
        "loss self_instruct",
    ]

    # same model, same settings: finished suites are reused, nothing runs again
    labels.clear()
    again = evaluate(tiny_llama_dir, ["nlp", "code", "loss"], None, out, cfg, progress)
    assert labels == [] and again["results"] == saved["results"]
    # a changed setting reruns that suite only
    evaluate(tiny_llama_dir, ["nlp", "loss"], 2, out, cfg, progress)
    assert json.loads(out.read_text())["results"]["nlp"]["arc_easy"]["n_items"] == 2


def test_cli_reports_bad_requests(tiny_llama_dir, tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        app, ["eval", str(tiny_llama_dir), "--suite", "nlp,bogus", "-o", str(tmp_path / "r.json")]
    )
    assert res.exit_code == 2 and "unknown suite" in res.output  # a setting (robustness.md)
    res = runner.invoke(
        app, ["eval", str(tiny_llama_dir), "--suite", "chat", "-o", str(tmp_path / "r.json")]
    )
    assert res.exit_code == 2 and "needs a judge" in res.output
    res = runner.invoke(app, ["eval", str(tiny_llama_dir), "--preset", "fast"])
    assert res.exit_code == 2


def test_finished_evaluation_loads_no_model(tiny_llama_dir, mini_dirs, tmp_path, monkeypatch):
    """The results file is the stage manifest: when every suite is there for the same model
    content and settings, evaluate returns it without loading the model (it used to load the
    model first and only then find every suite cached)."""
    import instructmine.evaluate.target as target

    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(tmp_path / "cache"))
    _, data = mini_dirs
    cfg = EvalConfig(data_dir=str(data), loss_sets=["self_instruct"], batch_size=2)
    out = tmp_path / "results.json"
    first = evaluate(tiny_llama_dir, ["loss"], None, out, cfg)

    def no_load(*a, **k):
        raise AssertionError("a finished evaluation must not load the model")

    monkeypatch.setattr(target, "load_target", no_load)
    again = evaluate(tiny_llama_dir, ["loss"], None, out, cfg)
    assert again["results"] == json.loads(json.dumps(first["results"]))
    assert again["stage"]["name"] == "evaluate"


def test_cli_json_is_all_of_stdout(tiny_llama_dir, mini_dirs, tmp_path):
    from shared_paths import run_cli

    _, data = mini_dirs
    out = tmp_path / "r.json"
    r = run_cli(
        "eval", tiny_llama_dir, "--suite", "loss", "--loss-sets", "self_instruct",
        "--data-dir", data, "-o", out, "--json",
        env={"INSTRUCTMINE_CACHE": str(tmp_path / "cache")},
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["results"]["loss"]["self_instruct"]["n_items"] == 3
    assert doc["results"] == json.loads(out.read_text())["results"]
    assert "Loading weights" not in r.stderr and "━" not in r.stderr  # no bars when piped
