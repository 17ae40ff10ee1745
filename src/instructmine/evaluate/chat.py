"""Chat / alignment suite: the model answers instruction sets, a judge grades the answers.

- single-answer grades 1-10 (MT-Bench style; the reference-guided prompt when the item has a
  reference and the set is MT-Bench math/reasoning/coding), averaged overall and per category;
- FLASK per-skill scores 1-5 (the item's three skills, FLASK's reviewer prompt and rubrics);
- pairwise win rate against reference outputs (AlpacaEval style), each pair judged in both
  orders so position bias cancels.

Items the judge never answered usably are excluded from the means and counted: every mean
says how many items it covers (``n_rated`` of ``n_items``, ``coverage``, and per category or
skill). A judge lost to transport errors on several items in a row stops the set
(:class:`~instructmine.evaluate.judge.JudgeUnavailableError`) rather than averaging a part.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from instructmine.evaluate.eval_sets import EVAL_FILES, EvalItem, load_eval_set, skill_rubrics
from instructmine.evaluate.generate import GenerationConfig, generate
from instructmine.evaluate.judge import Grader

REFERENCE_GUIDED = {"math", "reasoning", "coding"}  # MT-Bench's reference-guided categories
DEFAULT_GRADED = ("mt_bench",)
DEFAULT_PAIRWISE = ("alpaca_eval",)


def answer(
    model: Any,
    tokenizer: Any,
    items: Sequence[EvalItem],
    config: GenerationConfig,
    on_batch: Callable[[int], None] | None = None,
) -> list[str]:
    """The model's answers to the items' prompts (its chat template; plain template otherwise)."""
    from instructmine.prompting import render_prompt

    prompts = [render_prompt(tokenizer, [{"role": "user", "content": it.prompt}]) for it in items]
    return [a.strip() for a in generate(model, tokenizer, prompts, config, on_batch=on_batch)]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def grade_single(
    grader: Grader,
    items: Sequence[EvalItem],
    answers: Sequence[str],
    parallel: int = 2,
    on_item: Callable[[], None] | None = None,
) -> dict:
    """MT-Bench-style single-answer grades; mean overall and per category."""

    def one(pair: tuple[EvalItem, str]) -> float | None:
        it, ans = pair
        ref = it.reference if (it.category in REFERENCE_GUIDED) else None
        score = grader.rate(it.prompt, ans, ref)
        if on_item:
            on_item()
        return score

    with ThreadPoolExecutor(parallel) as pool:
        scores = list(pool.map(one, zip(items, answers, strict=True)))
    by_cat: dict[str, list[float]] = defaultdict(list)
    for it, s in zip(items, scores, strict=True):
        if s is not None:
            by_cat[it.category or "all"].append(s)
    rated = [s for s in scores if s is not None]
    return {
        "score": _mean(rated),
        "scale": "1-10",
        "n_items": len(items),
        "n_rated": len(rated),
        "n_unrated": len(items) - len(rated),
        "coverage": len(rated) / len(items) if items else None,
        "per_category": {c: _mean(v) for c, v in sorted(by_cat.items())},
        "per_category_n": {c: len(v) for c, v in sorted(by_cat.items())},
        "items": [
            {"id": it.id, "category": it.category, "score": s, "answer": a[:500]}
            for it, s, a in zip(items, scores, answers, strict=True)
        ],
    }


def grade_flask(
    grader: Grader,
    items: Sequence[EvalItem],
    answers: Sequence[str],
    rubrics: dict[str, dict],
    parallel: int = 2,
    on_item: Callable[[], None] | None = None,
) -> dict:
    """FLASK per-skill scores (1-5), averaged per skill."""

    def one(pair: tuple[EvalItem, str]) -> dict[str, float] | None:
        it, ans = pair
        got = grader.flask(it.prompt, ans, it.reference, it.skills, rubrics)
        if on_item:
            on_item()
        return got

    with ThreadPoolExecutor(parallel) as pool:
        scores = list(pool.map(one, zip(items, answers, strict=True)))
    per_skill: dict[str, list[float]] = defaultdict(list)
    for s in scores:
        for k, v in (s or {}).items():
            per_skill[k].append(v)
    rated = [s for s in scores if s is not None]
    return {
        "score": _mean([v for s in rated for v in s.values()]),
        "scale": "1-5",
        "n_items": len(items),
        "n_rated": len(rated),
        "n_unrated": len(items) - len(rated),
        "coverage": len(rated) / len(items) if items else None,
        "per_skill": {k: _mean(v) for k, v in sorted(per_skill.items())},
        "per_skill_n": {k: len(v) for k, v in sorted(per_skill.items())},
        "items": [
            {"id": it.id, "skills": s, "answer": a[:500]}
            for it, s, a in zip(items, scores, answers, strict=True)
        ],
    }


def win_rate(
    grader: Grader,
    items: Sequence[EvalItem],
    answers: Sequence[str],
    parallel: int = 2,
    on_item: Callable[[], None] | None = None,
) -> dict:
    """AlpacaEval-style win rate of the answers against the items' reference outputs."""

    def one(pair: tuple[EvalItem, str]) -> float | None:
        it, ans = pair
        if it.reference is None:
            raise ValueError(f"pairwise item {it.id} has no reference output to compare with")
        got = grader.compare(it.prompt, ans, it.reference)
        if on_item:
            on_item()
        return got

    with ThreadPoolExecutor(parallel) as pool:
        scores = list(pool.map(one, zip(items, answers, strict=True)))
    judged = [s for s in scores if s is not None]
    return {
        "win_rate": _mean(judged),
        "wins": sum(s == 1.0 for s in judged),
        "losses": sum(s == 0.0 for s in judged),
        "ties_or_inconsistent": sum(s == 0.5 for s in judged),
        "n_items": len(items),
        "n_judged": len(judged),
        "n_unjudged": len(items) - len(judged),
        "coverage": len(judged) / len(items) if items else None,
        "position_swap": True,
        "items": [
            {"id": it.id, "win": s, "answer": a[:500]}
            for it, s, a in zip(items, scores, answers, strict=True)
        ],
    }


def run_chat(
    model: Any,
    tokenizer: Any,
    grader: Grader,
    data_dir: Path,
    graded: Sequence[str] = DEFAULT_GRADED,
    pairwise: Sequence[str] = DEFAULT_PAIRWISE,
    limit: int | None = None,
    generation: GenerationConfig | None = None,
    parallel: int = 2,
    progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> dict:
    """Answer and judge each set; ``graded`` sets get 1-10 grades (``flask`` gets per-skill
    1-5 scores), ``pairwise`` sets get a win rate against their reference outputs.

    ``progress(label, total)`` may return a callback advanced by finished units.
    """
    generation = generation or GenerationConfig(max_new_tokens=256)
    out: dict[str, dict] = {}
    for mode, names in (("graded", graded), ("pairwise", pairwise)):
        for name in names:
            items = load_eval_set(name, data_dir, limit)
            tick = progress(f"chat {name}: answer", len(items)) if progress else None
            answers = answer(model, tokenizer, items, generation, on_batch=tick)
            step = progress(f"chat {name}: judge", len(items)) if progress else None
            on_item = (lambda s=step: s(1)) if step else None
            if mode == "pairwise":
                res = win_rate(grader, items, answers, parallel, on_item)
                res["reference"] = "the set's reference outputs (text-davinci-003 for alpaca_eval)"
            elif name == "flask":
                rubrics = skill_rubrics(data_dir)
                res = grade_flask(grader, items, answers, rubrics, parallel, on_item)
            else:
                res = grade_single(grader, items, answers, parallel, on_item)
            res["data"] = {"files": [str(data_dir / f) for f in EVAL_FILES[name]]}
            res["generation"] = generation.model_dump()
            out[f"{name}/{'win_rate' if mode == 'pairwise' else 'graded'}"] = res
    return out
