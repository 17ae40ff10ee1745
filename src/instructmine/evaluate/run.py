"""``evaluate()``: run the suites on one model or run folder and write one results JSON.

The JSON holds one entry per benchmark under ``results.<suite>``, a ``skills`` summary (NLP,
coding, alignment, eval loss) and provenance: the model (``target``), data files, the judge
and its failure counts, the sandbox. It is rewritten after every suite (atomically), so an
interrupted run keeps finished suites, and ``resume=True`` reuses suites already in the file
for the same model *content* (its fingerprint: re-trained weights in the same folder are
evaluated again) and settings. The file is also the stage manifest (:mod:`instructmine.stage`):
when every suite is there for the same model and settings, nothing is loaded at all.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from instructmine import atomic, data_dirs
from instructmine.evaluate.judge import JudgeConfig
from instructmine.evaluate.sandbox import SandboxConfig
from instructmine.stage import StageResult

SUITES = ("nlp", "code", "chat", "loss")
Progress = Callable[[str, int], Callable[[int], None]]


class EvalConfig(BaseModel):
    """Settings of an evaluation run (every suite); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(None, gt=0, description="items per benchmark (first N)")
    code_limit: int | None = Field(None, gt=0, description="problems per code set (else limit)")
    chat_limit: int | None = Field(None, gt=0, description="prompts per chat set (else limit)")
    benchmarks_dir: str | None = None
    data_dir: str | None = None
    batch_size: int = Field(8, gt=0)
    nlp_tasks: list[str] = ["arc_easy", "arc_challenge", "piqa", "boolq", "winogrande"]
    nlp_chat_template: bool = Field(False, description="wrap NLP prompts in the chat template")
    code_sets: list[str] = ["humaneval"]
    code_samples: int = Field(1, gt=0, description="completions per problem (n for pass@k)")
    code_k: list[int] = [1]
    code_temperature: float = Field(0.0, ge=0, description="0 = greedy; use ~0.8 for pass@10")
    code_max_new_tokens: int = Field(256, gt=0)
    code_prompt: str = Field(
        "raw",
        pattern="^(raw|chat)$",
        description="raw: continue the prompt (HumanEval protocol); chat: ask in the chat "
        "template and take the reply's code block",
    )
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    sandbox_parallel: int = Field(2, gt=0)
    chat_graded: list[str] = ["mt_bench"]
    chat_pairwise: list[str] = ["alpaca_eval"]
    chat_max_new_tokens: int = Field(256, gt=0)
    judge: JudgeConfig | None = None
    judge_cache: str | None = Field(None, description="SQLite file of cached judgments")
    judge_parallel: int = Field(2, gt=0)
    loss_sets: list[str] = ["self_instruct", "mt_bench"]


def demo_config() -> EvalConfig:
    """A cheap setting for the offline demo (about 1-2 minutes on 2 idle CPU cores).

    NLP: ARC-Easy, PIQA, BoolQ on 20 items each; HumanEval on 3 problems; chat: 2 MT-Bench
    answers graded and 2 AlpacaEval pairs judged (both orders) by the same SmolLM2 in-process
    (terse prompt; a 135M judge is a placeholder that keeps the code path real, not a quality
    signal); eval loss on 20 self-instruct references.
    """
    return EvalConfig(
        limit=20,
        code_limit=3,
        chat_limit=2,
        nlp_tasks=["arc_easy", "piqa", "boolq"],
        code_max_new_tokens=64,
        chat_graded=["mt_bench"],
        chat_pairwise=["alpaca_eval"],
        chat_max_new_tokens=48,
        judge=JudgeConfig(
            kind="local", prompt_style="terse", max_tokens=12, max_retries=1, backoff=0.0
        ),
        loss_sets=["self_instruct"],
    )


def _suite_limit(config: EvalConfig, suite: str) -> int | None:
    own = {"code": config.code_limit, "chat": config.chat_limit}.get(suite)
    return own if own is not None else config.limit


STAGE_VERSION = 1


def _suite_hash(config: EvalConfig, suite: str, target: str | None) -> str:
    """Key of one suite's results: the settings, the target's content fingerprint and, for
    the loss and chat suites, the content of the eval files they read."""
    from instructmine.fingerprint import digest_json, file_digest

    files = []
    if suite in ("loss", "chat"):
        from instructmine.evaluate.eval_sets import EVAL_FILES

        try:
            root = data_dirs.shared_data_dir(config.data_dir)
        except FileNotFoundError:
            root = None
        names = config.loss_sets if suite == "loss" else config.chat_graded + config.chat_pairwise
        for name in names:
            for rel in EVAL_FILES.get(name, []):
                path = root / rel if root else None
                files.append(file_digest(path)["sha256"] if path and path.is_file() else rel)
    return digest_json([suite, config.model_dump(mode="json"), target, files])


def skills_summary(results: dict) -> dict:
    """One number per skill: NLP mean accuracy, coding pass@1, alignment grade, eval loss."""
    out: dict[str, Any] = {}
    nlp = results.get("nlp") or {}
    if nlp:
        out["nlp_mean_acc"] = sum(v["acc"] for v in nlp.values()) / len(nlp)
        out["nlp_mean_acc_minus_chance"] = sum(v["acc"] - v["chance"] for v in nlp.values()) / len(
            nlp
        )
    code = results.get("code") or {}
    if "humaneval" in code:
        out["coding_humaneval_pass@1"] = code["humaneval"].get("pass@1")
    if "mbpp" in code:
        out["coding_mbpp_pass@1"] = code["mbpp"].get("pass@1")
    chat = results.get("chat") or {}
    graded = [
        v["score"] / (5 if v.get("scale") == "1-5" else 10)
        for k, v in chat.items()
        if k.endswith("/graded") and v.get("score") is not None
    ]
    if graded:
        out["alignment_grade_0_1"] = sum(graded) / len(graded)
    wins = [
        v["win_rate"]
        for k, v in chat.items()
        if k.endswith("/win_rate") and v.get("win_rate") is not None
    ]
    if wins:
        out["alignment_win_rate"] = sum(wins) / len(wins)
    loss = results.get("loss") or {}
    if loss:
        out["eval_loss"] = {k: v["loss"] for k, v in loss.items()}
    return out


class EvalResult(dict, StageResult):
    """The results document (a dict, as written to the results file) with the stage fields."""


def evaluate(
    model_or_run: str | os.PathLike[str],
    suites: Sequence[str] = SUITES,
    limit: int | None = None,
    out: str | os.PathLike[str] | None = None,
    config: EvalConfig | None = None,
    progress: Progress | None = None,
    resume: bool = True,
    overwrite: bool = False,
) -> EvalResult:
    """Evaluate a model or run folder on the named suites; write and return the results dict
    (an :class:`EvalResult`: ``skipped`` when the results file already held this evaluation).

    ``limit`` overrides ``config.limit``. ``progress(label, total)`` may return a callback
    advanced by finished units (the CLI passes rich progress bars).
    """
    from instructmine.config_errors import SettingError, closest
    from instructmine.evaluate.target import load_target

    config = config or EvalConfig()
    if limit is not None:  # validated like the config's own limit (0 and -1 are errors)
        config = EvalConfig.model_validate({**config.model_dump(), "limit": limit})
    unknown = [s for s in suites if s not in SUITES]
    if unknown:
        raise SettingError(
            f"--suite: unknown suite {unknown[0]!r}{closest(unknown[0], SUITES)}; "
            f"choose from {', '.join(SUITES)}"
        )
    if "chat" in suites and config.judge is None:
        raise SettingError(
            "the chat suite needs a judge: pass --judge-url/--judge-model (OpenAI-compatible "
            "server) or --judge-local MODEL"
        )
    from instructmine.fingerprint import model_fingerprint
    from instructmine.ownership import refuse_foreign
    from instructmine.stage import Stage, read_manifest

    out_path = Path(out) if out else None
    if out_path is not None:
        refuse_foreign([out_path], None, overwrite)
    fingerprint = model_fingerprint(model_or_run)
    stage = Stage(
        "evaluate",
        STAGE_VERSION,
        config={"suites": list(suites), "config": config.model_dump(mode="json")},
        inputs={},
        models={"target": str(model_or_run)},
    )
    previous: dict = {}
    if resume and out_path:
        done = stage.done(out_path)
        if done is not None:
            return EvalResult(done).mark(stage, out_path, True)
        previous = read_manifest(out_path) or {}
        if previous.get("target", {}).get("fingerprint") != fingerprint:
            previous = {}
    stage.start(out_path)
    hashes = {suite: _suite_hash(config, suite, fingerprint) for suite in suites}
    loaded: tuple[Any, Any] | None = None
    target = previous.get("target") or {"name": str(model_or_run), "fingerprint": fingerprint}
    doc: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "target": target,
        "config": config.model_dump(),
        "suites": list(suites),
        "results": {},
        "provenance": {},
        "seconds": {},
        "config_hash": {},
    }
    for suite in suites:
        h = hashes[suite]
        if previous.get("config_hash", {}).get(suite) == h and suite in previous.get("results", {}):
            doc["results"][suite] = previous["results"][suite]
            doc["provenance"][suite] = previous.get("provenance", {}).get(suite, {})
            doc["seconds"][suite] = previous.get("seconds", {}).get(suite)
            doc["config_hash"][suite] = h
            continue
        if loaded is None:  # the model loads only when some suite has work to do
            model, tokenizer, described = load_target(model_or_run)
            loaded = (model, tokenizer)
            doc["target"] = {**described, "fingerprint": fingerprint}
        start = time.monotonic()
        res, prov = _run_suite(suite, *loaded, model_or_run, config, progress)
        doc["results"][suite] = res
        doc["provenance"][suite] = prov
        doc["seconds"][suite] = round(time.monotonic() - start, 1)
        doc["config_hash"][suite] = h
        doc["skills"] = skills_summary(doc["results"])
        if out_path:
            atomic.write_json(out_path, doc)
    doc["skills"] = skills_summary(doc["results"])
    if out_path:
        return EvalResult(stage.write(out_path, doc)).mark(stage, out_path, False)
    return EvalResult(doc)


def _run_suite(
    suite: str,
    model: Any,
    tokenizer: Any,
    name: Any,
    config: EvalConfig,
    progress: Progress | None,
) -> tuple[dict, dict]:
    lim = _suite_limit(config, suite)
    if suite == "nlp":
        from instructmine.evaluate.nlp import run_nlp

        tick = progress("nlp", len(config.nlp_tasks)) if progress else None
        res = run_nlp(
            model,
            tokenizer,
            config.nlp_tasks,
            config.benchmarks_dir,
            lim,
            config.batch_size,
            on_task=(lambda _n: tick(1)) if tick else None,
            chat_template=config.nlp_chat_template,
        )
        return res, {"engine": "lm-eval", "tasks": config.nlp_tasks, "limit": lim}
    if suite == "code":
        return _run_code(model, tokenizer, config, lim, progress)
    from instructmine.data_dirs import shared_data_dir

    data_dir = shared_data_dir(config.data_dir)
    if suite == "loss":
        from instructmine.evaluate.loss import run_loss

        res = run_loss(
            model, tokenizer, data_dir, config.loss_sets, lim, config.batch_size, progress
        )
        return res, {"data_dir": str(data_dir)}
    return _run_chat(model, tokenizer, name, config, data_dir, lim, progress)


def _run_code(model, tokenizer, config, lim, progress) -> tuple[dict, dict]:
    from instructmine.evaluate.code import (
        MBPP_STOP,
        STOP,
        execute,
        generate_completions,
        load_humaneval,
        load_mbpp,
    )
    from instructmine.evaluate.generate import GenerationConfig
    from instructmine.evaluate.sandbox import Sandbox

    sandbox = Sandbox(config.sandbox, parallel=config.sandbox_parallel)
    gen = GenerationConfig(
        max_new_tokens=config.code_max_new_tokens,
        batch_size=config.batch_size,
        temperature=config.code_temperature,
    )
    if config.code_samples > 1 and config.code_temperature == 0:
        raise ValueError("code_samples > 1 needs code_temperature > 0 (greedy samples are equal)")
    res, files = {}, {}
    for name in config.code_sets:
        if name == "humaneval":
            from instructmine.evaluate.code import humaneval_path

            problems, stop, files[name] = load_humaneval(), STOP, str(humaneval_path())
        elif name == "mbpp":
            path = data_dirs.benchmarks_dir(config.benchmarks_dir) / "mbpp" / "mbpp.jsonl"
            problems, stop, files[name] = load_mbpp(path), MBPP_STOP, str(path)
        else:
            raise ValueError(f"unknown code set {name!r}; choose humaneval or mbpp")
        problems = problems[:lim] if lim else problems
        tick = (
            progress(f"code {name}: generate", len(problems) * config.code_samples)
            if progress
            else None
        )
        comps = generate_completions(
            model,
            tokenizer,
            problems,
            gen,
            config.code_samples,
            stop,
            on_batch=tick,
            prompt_mode=config.code_prompt,
        )
        run_tick = (
            progress(f"code {name}: execute", len(problems) * config.code_samples)
            if progress
            else None
        )
        out = execute(
            problems,
            comps,
            sandbox,
            config.code_k,
            on_done=(lambda _i, _r, t=run_tick: t(1)) if run_tick else None,
        )
        out["data"] = {
            "file": files[name],
            "prompt_mode": config.code_prompt,
            "stop": list(stop) if config.code_prompt == "raw" else [],
        }
        out["generation"] = gen.model_dump() | {"samples": config.code_samples}
        res[name] = out
    return res, {"sandbox": sandbox.describe()}


def _run_chat(model, tokenizer, name, config, data_dir, lim, progress) -> tuple[dict, dict]:
    from instructmine.evaluate.chat import run_chat
    from instructmine.evaluate.generate import GenerationConfig
    from instructmine.evaluate.judge import Grader, JudgmentCache, LocalJudge, make_judge
    from instructmine.models import cache_dir

    jc = config.judge
    if jc.kind == "local" and jc.model == str(name):
        judge = LocalJudge(jc, model, tokenizer)  # the model judges itself: load once
    else:
        judge = make_judge(jc)
    cache_path = config.judge_cache or cache_dir() / "judgments.sqlite"
    grader = Grader(judge, jc, JudgmentCache(cache_path))
    gen = GenerationConfig(max_new_tokens=config.chat_max_new_tokens, batch_size=config.batch_size)
    res = run_chat(
        model,
        tokenizer,
        grader,
        data_dir,
        config.chat_graded,
        config.chat_pairwise,
        lim,
        gen,
        config.judge_parallel,
        progress,
    )
    counts = vars(grader.counts).copy()
    return res, {"judge": grader.describe(), "judge_counts": counts, "data_dir": str(data_dir)}
