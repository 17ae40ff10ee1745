"""What ``instructmine eval`` does between parsing and printing: its settings from the preset,
the config file, the options and ``--set``; the run with progress bars; the rendering."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from instructmine.evaluate.run import EvalConfig

# option name -> (EvalConfig key, how the option's text becomes the value)
_LISTS = {
    "nlp_tasks": "nlp_tasks",
    "code_sets": "code_sets",
    "chat_sets": "chat_graded",
    "pairwise_sets": "chat_pairwise",
    "loss_sets": "loss_sets",
}
_PLAIN = {
    "nlp_chat_template": "nlp_chat_template",
    "samples": "code_samples",
    "code_prompt": "code_prompt",
    "temperature": "code_temperature",
    "batch_size": "batch_size",
}
_PATHS = ("benchmarks_dir", "data_dir", "judge_cache")


def csv(value: str | None) -> list[str] | None:
    """``a, b,c`` as ``["a", "b", "c"]``; None for an empty or missing value."""
    return [v.strip() for v in value.split(",") if v.strip()] or None if value else None


def eval_settings(
    preset: str | None, config: Path | None, sets: list[str] | None, options: dict[str, Any]
) -> EvalConfig:
    """The evaluation settings: the preset's (or the defaults), then the config file, then the
    command-line ``options`` (``eval``'s own option names), then ``--set``; validated."""
    from instructmine.config_errors import SettingError, closest
    from instructmine.evaluate.run import demo_config
    from instructmine.overrides import parse_overrides
    from instructmine.settings_file import read_settings

    if preset not in (None, "demo"):
        raise SettingError(
            f"--preset {preset!r}: the only preset is 'demo'{closest(preset, ['demo'])}"
        )
    data = (demo_config() if preset == "demo" else EvalConfig()).model_dump(exclude_none=True)
    if config is not None:
        data.update(read_settings(config, "evaluation"))
    data["judge"] = _judge(data.get("judge") or {}, options) or None
    for option, key in _LISTS.items():
        data[key] = csv(options.get(option)) or data.get(key)
    for option, key in _PLAIN.items():
        data[key] = options[option] if options.get(option) is not None else data.get(key)
    for key in _PATHS:
        data[key] = str(options[key]) if options.get(key) else data.get(key)
    if options.get("k"):
        data["code_k"] = [int(x) for x in csv(options["k"])]
    data = parse_overrides(sets or [], base={k: v for k, v in data.items() if v is not None})
    return _validate(data, config)


def _validate(data: dict, config: Path | None) -> EvalConfig:
    from pydantic import ValidationError

    from instructmine.config_errors import SettingError, describe_validation

    try:
        return EvalConfig.model_validate(data)
    except ValidationError as e:
        raise SettingError(describe_validation(e, config or "evaluation settings")) from e


def _judge(judge: dict, o: dict[str, Any]) -> dict:
    if o.get("judge_url") or o.get("judge_model"):
        model = o.get("judge_model") or judge.get("model") or "judge"
        judge = {**judge, "kind": "openai", "base_url": o.get("judge_url") or judge.get("base_url"),
                 "model": model}  # fmt: skip
    if o.get("judge_local"):
        judge = {**judge, "kind": "local", "model": o["judge_local"], "base_url": None}
    if judge and o.get("judge_key_env"):
        judge["api_key_env"] = o["judge_key_env"]
    if judge and o.get("judge_prompt"):
        judge["prompt_style"] = o["judge_prompt"]
    return judge


def run_eval(
    model: str,
    suites: list[str],
    limit: int | None,
    out: Path,
    cfg: EvalConfig,
    resume: bool,
    overwrite: bool = False,
) -> dict:
    """``evaluate`` with a progress bar per benchmark on stderr (none when piped)."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from instructmine.evaluate.run import evaluate
    from instructmine.progress import progress_bars

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with progress_bars(*columns) as bars:

        def progress(label: str, total: int):
            task = bars.add_task(label, total=total)
            return lambda n=1: bars.advance(task, n)

        return evaluate(model, suites, limit, out, cfg, progress, resume, overwrite)


def render_eval(doc: dict, out: Path) -> None:
    """The results table on stdout; where they were written and the skills on stderr."""
    import json

    from rich.console import Console

    from instructmine.evaluate.report import results_table

    Console().print(results_table(doc))
    err = Console(stderr=True)
    err.print(f"results: {out}", highlight=False)
    if doc.get("skills"):
        err.print(json.dumps(doc["skills"], indent=1), highlight=False)
