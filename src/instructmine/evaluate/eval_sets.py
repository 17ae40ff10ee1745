"""Instruction sets with reference answers, for eval loss and the chat suite.

Each loader returns :class:`EvalItem` records (a single-turn prompt, an optional reference
answer, and a category/skills tag) read from the shared data layout (``../shared/data``)
or any folder laid out the same way; bad files raise errors naming file and record.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from instructmine.evaluate.records import read_records

ENV_DIR = "INSTRUCTMINE_DATA"


@dataclass
class EvalItem:
    """One evaluation prompt: ``prompt`` is the user turn, ``reference`` an answer (or None)."""

    id: str
    prompt: str
    reference: str | None = None
    category: str | None = None
    skills: list[str] = field(default_factory=list)

    def conversation(self) -> list[dict]:
        """Canonical messages (user prompt + reference answer) for eval loss."""
        if self.reference is None:
            raise ValueError(f"eval item {self.id} has no reference answer")
        return [
            {"role": "user", "content": self.prompt},
            {"role": "assistant", "content": self.reference},
        ]


def default_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Resolve the data folder: explicit > ``$INSTRUCTMINE_DATA`` > ``../shared/data``."""
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"data folder {path} does not exist (--data-dir)")
        return path
    tried = [Path(os.environ[ENV_DIR])] if os.environ.get(ENV_DIR) else []
    tried += [
        Path.cwd() / ".." / "shared" / "data",
        Path(__file__).resolve().parents[3] / ".." / "shared" / "data",
    ]
    for path in tried:
        if path.is_dir():
            return path.resolve()
    raise FileNotFoundError(
        "no evaluation data folder found; pass --data-dir or set $INSTRUCTMINE_DATA to a folder "
        "laid out like ../shared/data (mt_bench/, self_instruct_user_oriented/, alpaca_eval/, "
        f"benchmarks/flask/). Tried: {', '.join(map(str, tried))}"
    )


def _bad(path: Path, n: int, err: Exception) -> ValueError:
    return ValueError(f"{path}: record {n} does not have the expected fields ({err!r})")


def mt_bench(root: Path) -> list[EvalItem]:
    """MT-Bench turn 1 (80 questions); GPT-4 references exist for math/reasoning/coding (30)."""
    refs_path = root / "mt_bench" / "reference_answer_gpt-4.jsonl"
    refs = {}
    if refs_path.exists():
        for n, rec in read_records(refs_path):
            try:
                refs[rec["question_id"]] = rec["choices"][0]["turns"][0]
            except (KeyError, IndexError) as err:
                raise _bad(refs_path, n, err) from err
    path = root / "mt_bench" / "question.jsonl"
    items = []
    for n, rec in read_records(path):
        try:
            qid = rec["question_id"]
            items.append(
                EvalItem(f"mt_bench-{qid}", rec["turns"][0], refs.get(qid), rec.get("category"))
            )
        except (KeyError, IndexError) as err:
            raise _bad(path, n, err) from err
    return items


def self_instruct(root: Path) -> list[EvalItem]:
    """Self-Instruct's 252 user-oriented instructions with their expert reference outputs."""
    path = root / "self_instruct_user_oriented" / "user_oriented_instructions.jsonl"
    items = []
    for n, rec in read_records(path):
        try:
            inst = rec["instances"][0]
            prompt = rec["instruction"].strip()
            if (inst.get("input") or "").strip():
                prompt += "\n\n" + inst["input"].strip()
            items.append(EvalItem(rec["id"], prompt, inst["output"], rec.get("motivation_app")))
        except (KeyError, IndexError, AttributeError) as err:
            raise _bad(path, n, err) from err
    return items


def alpaca_eval(root: Path) -> list[EvalItem]:
    """AlpacaEval's 805 instructions with the text-davinci-003 reference outputs."""
    path = root / "alpaca_eval" / "text_davinci_003_model_outputs.json.gz"
    items = []
    for n, rec in read_records(path):
        try:
            items.append(
                EvalItem(f"alpaca_eval-{n}", rec["instruction"], rec["output"], rec.get("dataset"))
            )
        except KeyError as err:
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


EVAL_SETS: dict[str, Callable[[Path], list[EvalItem]]] = {
    "mt_bench": mt_bench,
    "self_instruct": self_instruct,
    "alpaca_eval": alpaca_eval,
    "flask": flask,
    "vicuna": vicuna,
}
EVAL_FILES = {
    "mt_bench": ["mt_bench/question.jsonl", "mt_bench/reference_answer_gpt-4.jsonl"],
    "self_instruct": ["self_instruct_user_oriented/user_oriented_instructions.jsonl"],
    "alpaca_eval": ["alpaca_eval/text_davinci_003_model_outputs.json.gz"],
    "flask": ["benchmarks/flask/flask_evaluation.jsonl.gz"],
    "vicuna": ["vicuna_bench/question.jsonl"],
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
