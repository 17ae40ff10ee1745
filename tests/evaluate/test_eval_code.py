"""HumanEval / MBPP harness: canonical solutions pass in the sandbox, wrong ones fail."""

from __future__ import annotations

from math import comb

import pytest

from instructmine.evaluate.code import (
    execute,
    generate_completions,
    load_humaneval,
    load_mbpp,
    pass_at_k,
)
from instructmine.evaluate.generate import GenerationConfig, truncate_at_stop
from instructmine.evaluate.sandbox import Sandbox, SandboxConfig
from shared_paths import shared_data_or_skip


def test_all_humaneval_canonical_solutions_pass_and_a_wrong_one_fails():
    problems = load_humaneval()
    assert len(problems) == 164
    wrong = problems[0].canonical.replace("return True", "return False")
    assert wrong != problems[0].canonical
    completions = [[p.canonical] for p in problems]
    completions[0] = [problems[0].canonical, wrong]
    res = execute(problems, completions, Sandbox(SandboxConfig(timeout=10), parallel=2), ks=(1,))
    rows = {r["task_id"]: r for r in res["problems"]}
    failed = [t for t, r in rows.items() if t != problems[0].task_id and r["correct"] != r["n"]]
    assert failed == []
    assert rows[problems[0].task_id]["statuses"] == ["passed", "failed"]
    assert res["pass@1"] == pytest.approx((163 + 0.5) / 164)


def test_pass_at_k_matches_the_closed_form():
    n, c = [5, 5, 4], [2, 0, 4]
    expected = {
        k: sum(1 - comb(ni - ci, k) / comb(ni, k) for ni, ci in zip(n, c, strict=True)) / 3
        for k in (1, 2, 4)
    }
    got = pass_at_k(n, c, ks=(1, 2, 4, 10))
    assert "pass@10" not in got  # more than the samples per problem: not estimable
    for k, v in expected.items():
        assert got[f"pass@{k}"] == pytest.approx(v)


def test_mbpp_reference_solutions_pass_and_broken_ones_fail():
    data = shared_data_or_skip()
    problems = load_mbpp(data / "benchmarks" / "mbpp" / "mbpp.jsonl")
    assert len(problems) == 500
    sample = problems[:6]
    completions = [["\n" + p.canonical] for p in sample]
    completions[1] = ["\ndef nothing():\n    return None\n"]
    res = execute(sample, completions, Sandbox(parallel=2))
    assert [r["correct"] for r in res["problems"]] == [1, 0, 1, 1, 1, 1]


def test_bad_benchmark_record_names_file_and_record(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text('{"task_id": 11, "text": "x", "code": "", "test_list": []}\n')
    with pytest.raises(ValueError, match=r"mbpp.jsonl: record 1"):
        load_mbpp(path)


def test_truncate_at_stop_cuts_at_the_earliest_stop():
    text = "    return 1\n\nprint(f())\ndef g():\n"
    assert truncate_at_stop(text, ("\ndef ", "\nprint(")) == "    return 1\n"
    assert truncate_at_stop("abc", ("\ndef ",)) == "abc"


def test_generation_with_a_tiny_model_is_batched_and_truncated(tiny_llama_dir):
    from instructmine.models import load_causal_lm

    model, tok = load_causal_lm(tiny_llama_dir)
    problems = load_humaneval()[:3]
    cfg = GenerationConfig(max_new_tokens=12, batch_size=2)
    batches = []
    out = generate_completions(model, tok, problems, cfg, samples=2, on_batch=batches.append)
    assert [len(c) for c in out] == [2, 2, 2]
    assert sum(batches) == 6 and max(batches) <= 2
    assert out[0][0] == out[0][1]  # greedy: samples agree
    for comps in out:
        for c in comps:
            assert all(s not in c for s in ("\ndef ", "\nclass ", "\n#"))


def test_chat_mode_extracts_the_code_block_and_it_runs():
    from instructmine.evaluate.code import extract_code

    problem = load_humaneval()[0]
    reply = f"Sure!\n```python\n{problem.prompt}{problem.canonical}```\nThis works because..."
    body_only = f"```\n{problem.canonical}"  # unclosed fence, body only
    assert extract_code("no fence at all") == "no fence at all"
    res = execute(
        [problem],
        [["\n" + extract_code(reply), "\n" + extract_code(body_only)]],
        Sandbox(parallel=2),
    )
    assert res["problems"][0]["statuses"] == ["passed", "passed"]
    assert "```" not in extract_code(reply)
