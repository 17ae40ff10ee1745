"""Skill loss sets (issue 14 item 2): code solutions and NLP answers as eval-loss sets."""

import gzip
import json
import math

from instructmine.evaluate.eval_sets import EVAL_FILES, load_eval_set
from shared_paths import shared_data_or_skip

SETS = ["humaneval_solutions", "mbpp_solutions", "arc_easy_answers", "piqa_answers"]


def test_code_sets_hold_every_canonical_solution_given_its_task():
    root = shared_data_or_skip()
    from instructmine.evaluate.code import humaneval_path

    with gzip.open(humaneval_path(), "rt") as f:
        humaneval = [json.loads(line) for line in f if line.strip()]
    items = load_eval_set("humaneval_solutions", root)
    assert len(items) == len(humaneval)
    for item, rec in zip(items, humaneval, strict=True):
        assert rec["prompt"] in item.prompt  # the task shows the signature and docstring
        assert rec["canonical_solution"].rstrip() in item.reference
        assert item.reference.startswith("```python\n") and item.skills == ["coding"]
    with open(root / EVAL_FILES["mbpp_solutions"][0]) as f:
        mbpp = [r for r in map(json.loads, f) if 11 <= int(r["task_id"]) <= 510]
    items = load_eval_set("mbpp_solutions", root)
    assert len(items) == len(mbpp)
    assert all(r["test_list"][0] in it.prompt for it, r in zip(items, mbpp, strict=True))


def test_nlp_answer_sets_use_the_gold_answer():
    root = shared_data_or_skip()
    with open(root / EVAL_FILES["arc_easy_answers"][0]) as f:
        arc = [json.loads(line) for line in f if line.strip()]
    items = load_eval_set("arc_easy_answers", root)
    assert len(items) == len(arc)
    for item, rec in zip(items, arc, strict=True):
        gold = next(c["text"] for c in rec["question"]["choices"] if c["label"] == rec["answerKey"])
        assert item.prompt == rec["question"]["stem"] and item.reference == gold
    labels = (root / EVAL_FILES["piqa_answers"][1]).read_text().split()
    assert len(load_eval_set("piqa_answers", root)) == len(labels)


def test_losses_through_the_eval_loss_machinery(tiny_llama_dir):
    root = shared_data_or_skip()
    from instructmine.evaluate.loss import run_loss
    from instructmine.models import load_for_eval

    model, tokenizer, _ = load_for_eval(tiny_llama_dir)
    out = run_loss(model, tokenizer, root, sets=SETS, limit=2, batch_size=2)
    assert set(out) == set(SETS)
    for name in SETS:
        assert math.isfinite(out[name]["loss"]) and out[name]["loss"] > 0, name
