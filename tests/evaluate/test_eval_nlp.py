"""NLP suite: local benchmark files -> lm-eval task YAMLs -> scores, offline."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from instructmine.data_dirs import benchmarks_dir
from instructmine.evaluate.nlp import get_benchmark, prepare, run_nlp
from instructmine.evaluate.nlp_data import BENCHMARKS
from instructmine.offline import offline
from shared_paths import shared_data_or_skip


def _write_jsonl(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


@pytest.fixture
def mini_benchmarks(tmp_path):
    """A benchmarks folder in the shared layout with a few hand-written items."""
    root = tmp_path / "benchmarks"
    arc = [
        {
            "id": f"q{i}",
            "question": {
                "stem": stem,
                "choices": [
                    {"text": t, "label": lab} for t, lab in zip(opts, "ABCD", strict=False)
                ],
            },
            "answerKey": key,
        }
        for i, (stem, opts, key) in enumerate(
            [
                ("What is the capital of France?", ["Paris", "Rome", "Oslo"], "A"),
                ("Which is a fruit?", ["stone", "apple", "car", "sky"], "B"),
                ("Translate good morning.", ["Buenos días", "Adiós"], "A"),
                ("Which number is largest?", ["1", "2", "300"], "C"),
            ]
        )
    ]
    _write_jsonl(root / "arc_easy" / "ARC-Easy-Dev.jsonl", arc)
    piqa = [{"goal": f"goal {i}", "sol1": f"first {i}", "sol2": f"second {i}"} for i in range(3)]
    _write_jsonl(root / "piqa" / "valid.jsonl", piqa)
    (root / "piqa" / "valid-labels.lst").write_text("1\n0\n1\n")
    wino = [
        {
            "qID": "w1",
            "sentence": "Anna helped Maria because _ was kind.",
            "option1": "Anna",
            "option2": "Maria",
            "answer": "1",
        },
        {
            "qID": "w2",
            "sentence": "The cup fell off the table because _ was tilted.",
            "option1": "cup",
            "option2": "table",
            "answer": "2",
        },
    ]
    _write_jsonl(root / "winogrande" / "dev.jsonl", wino)
    return root


def test_converters_keep_the_gold_answer(mini_benchmarks, tmp_path):
    task = prepare("arc_easy", mini_benchmarks, cache_root=tmp_path / "cache")
    rows = [json.loads(line) for line in (task.folder / "data.jsonl").read_text().splitlines()]
    assert [r["choices"][r["gold"]] for r in rows] == ["Paris", "apple", "Buenos días", "300"]
    assert rows[0]["query"] == "Question: What is the capital of France?\nAnswer:"
    assert task.chance == pytest.approx([1 / 3, 1 / 4, 1 / 2, 1 / 3])
    assert task.sources[0]["path"].endswith("ARC-Easy-Dev.jsonl")
    piqa = prepare("piqa", mini_benchmarks, cache_root=tmp_path / "cache")
    rows = [json.loads(line) for line in (piqa.folder / "data.jsonl").read_text().splitlines()]
    assert [r["choices"][r["gold"]] for r in rows] == ["second 0", "first 1", "second 2"]
    wino = prepare("winogrande", mini_benchmarks, cache_root=tmp_path / "cache")
    rows = [json.loads(line) for line in (wino.folder / "data.jsonl").read_text().splitlines()]
    assert rows[1]["contexts"][rows[1]["gold"]] == "The cup fell off the table because table"
    assert rows[1]["continuation"] == "was tilted."


def test_bad_inputs_give_clear_errors(mini_benchmarks, tmp_path):
    (mini_benchmarks / "piqa" / "valid-labels.lst").write_text("1\n0\n")
    with pytest.raises(ValueError, match="valid-labels.lst has 2 labels but .* has 3 records"):
        prepare("piqa", mini_benchmarks, cache_root=tmp_path / "c1")
    with pytest.raises(FileNotFoundError, match="boolq"):
        prepare("boolq", mini_benchmarks, cache_root=tmp_path / "c2")
    with pytest.raises(KeyError, match="Did you mean arc_easy"):
        get_benchmark("arc_esay")
    _write_jsonl(mini_benchmarks / "arc_challenge" / "ARC-Challenge-Dev.jsonl", [{"id": "x"}])
    with pytest.raises(ValueError, match=r"ARC-Challenge-Dev.jsonl: record 1"):
        prepare("arc_challenge", mini_benchmarks, cache_root=tmp_path / "c3")
    with pytest.raises(FileNotFoundError, match="--benchmarks-dir"):
        benchmarks_dir(tmp_path / "nowhere")


def test_offline_context_sets_and_restores(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with offline():
        assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
    assert "HF_HUB_OFFLINE" not in os.environ


def _own_accuracy(model, tok, rows, partial=False):
    """Zero-shot accuracy recomputed by hand: argmax of summed log p(continuation | context)."""
    import torch

    correct = []
    for r in rows:
        pairs = (
            [(c, r["continuation"]) for c in r["contexts"]]
            if partial
            else [(r["query"], ch) for ch in r["choices"]]
        )
        scores = []
        for ctx, cont in pairs:
            whole = tok(ctx + " " + cont, add_special_tokens=False)["input_ids"]
            n_ctx = len(tok(ctx, add_special_tokens=False)["input_ids"])
            ids = torch.tensor([whole])
            with torch.no_grad():
                logp = model(ids).logits.log_softmax(-1)[0]
            scores.append(sum(logp[t - 1, whole[t]].item() for t in range(n_ctx, len(whole))))
        correct.append(int(max(range(len(scores)), key=scores.__getitem__) == r["gold"]))
    return sum(correct) / len(correct)


def test_lm_eval_scores_agree_with_a_hand_computation(mini_benchmarks, tiny_llama_dir, monkeypatch):
    from instructmine.models import load_causal_lm

    monkeypatch.setenv("INSTRUCTMINE_CACHE", str(mini_benchmarks.parent / "imcache"))
    model, tok = load_causal_lm(tiny_llama_dir)
    attempts = []

    def no_network(self, address, *args):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    done = []
    res = run_nlp(
        model, tok, ["arc_easy", "winogrande"], mini_benchmarks, batch_size=2, on_task=done.append
    )
    assert done == ["arc_easy", "winogrande"]
    for name, partial in (("arc_easy", False), ("winogrande", True)):
        lines = Path(res[name]["data"]["prepared"]).read_text(encoding="utf-8").splitlines()
        rows = [json.loads(x) for x in lines]
        assert res[name]["n_items"] == len(rows)
        assert res[name]["acc"] == pytest.approx(_own_accuracy(model, tok, rows, partial))
        assert res[name]["engine"].startswith("lm-eval")
    assert attempts == []  # lm-eval and datasets never tried the network
    assert "acc_norm" in res["arc_easy"] and "acc_norm" not in res["winogrande"]
    acc, n = res["arc_easy"]["acc"], res["arc_easy"]["n_items"]
    assert res["arc_easy"]["acc_stderr"] == pytest.approx((acc * (1 - acc) / (n - 1)) ** 0.5)


@pytest.mark.integration
def test_every_shared_benchmark_converts():
    root = shared_data_or_skip() / "benchmarks"
    expected = {
        "arc_easy": 570,
        "arc_challenge": 299,
        "piqa": 1838,
        "boolq": 3270,
        "winogrande": 1267,
        "mmlu": 14042,
        "truthfulqa_mc1": 817,
        "race": 362,
    }
    assert set(expected) == set(BENCHMARKS)
    for name, n in expected.items():
        assert prepare(name, root).n_items == n, name
