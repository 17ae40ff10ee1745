"""``instructmine eval``: NLP benchmarks, HumanEval/MBPP, judge-graded chat, eval loss."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app


def _csv(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@app.command("eval")
def eval_command(
    run_or_model: Annotated[
        str,
        typer.Argument(help="Run folder, model alias (smollm2-135m-instruct), folder or hub id."),
    ],
    suite: Annotated[str, typer.Option(help="Comma-separated: nlp, code, chat, loss.")] = (
        "nlp,code,loss"
    ),
    limit: Annotated[int | None, typer.Option(help="First N items per benchmark.")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Results JSON.")] = Path(
        "eval_results.json"
    ),
    preset: Annotated[
        str | None, typer.Option(help="'demo': a cheap setting (~1-2 min on 2 CPU cores).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML/JSON file of EvalConfig settings.")
    ] = None,
    benchmarks_dir: Annotated[
        Path | None, typer.Option(help="Benchmarks folder (default ../shared/data/benchmarks).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Chat/loss sets folder (default ../shared/data).")
    ] = None,
    nlp_tasks: Annotated[
        str | None,
        typer.Option(help="arc_easy,arc_challenge,piqa,boolq,winogrande,mmlu,truthfulqa_mc1,race"),
    ] = None,
    nlp_chat_template: Annotated[
        bool | None, typer.Option(help="Wrap NLP prompts in the model's chat template.")
    ] = None,
    code_sets: Annotated[str | None, typer.Option(help="humaneval,mbpp")] = None,
    code_prompt: Annotated[
        str | None,
        typer.Option(help="raw (continue the prompt, HumanEval protocol) or chat (code block)."),
    ] = None,
    samples: Annotated[
        int | None, typer.Option(min=1, help="Completions per problem (pass@k).")
    ] = None,
    k: Annotated[str | None, typer.Option(help="pass@k values, e.g. 1,10.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Code sampling temperature.")] = None,
    chat_sets: Annotated[
        str | None, typer.Option(help="Graded sets: mt_bench,self_instruct,flask,vicuna.")
    ] = None,
    pairwise_sets: Annotated[
        str | None, typer.Option(help="Win-rate sets (vs reference outputs): alpaca_eval.")
    ] = None,
    loss_sets: Annotated[
        str | None, typer.Option(help="Eval-loss sets: self_instruct,mt_bench,alpaca_eval.")
    ] = None,
    judge_url: Annotated[
        str | None, typer.Option(help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    ] = None,
    judge_model: Annotated[str | None, typer.Option(help="Model name at the judge URL.")] = None,
    judge_key_env: Annotated[
        str | None, typer.Option(help="Name of the env var holding the judge API key.")
    ] = None,
    judge_local: Annotated[
        str | None, typer.Option(help="Judge with a local transformers model instead.")
    ] = None,
    judge_prompt: Annotated[
        str | None, typer.Option(help="mt-bench (default) or terse (for small judges).")
    ] = None,
    judge_cache: Annotated[Path | None, typer.Option(help="SQLite judgment cache.")] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Batch size (scoring, generation).")
    ] = None,
    resume: Annotated[
        bool, typer.Option(help="Reuse suites already in OUT for the same model and settings.")
    ] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the results document as JSON (all of stdout).")
    ] = False,
    overwrite: bool = typer.Option(False, help="Replace an OUT that instructmine did not write."),
) -> None:
    """Evaluate RUN_OR_MODEL and write one JSON of results per benchmark and per skill."""
    import json
    import os

    # OpenMP threads that sleep instead of spin: 4-7x faster torch when cores are shared
    # (measured here); must be set before torch loads. An explicit setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from instructmine.cli.output import fail
    from instructmine.cli.quiet import error_lines
    from instructmine.evaluate.report import results_table
    from instructmine.evaluate.run import EvalConfig, demo_config, evaluate
    from instructmine.progress import progress_bars

    err = Console(stderr=True)
    if preset not in (None, "demo"):
        raise typer.BadParameter("the only preset is 'demo'", param_hint="--preset")
    base = demo_config() if preset == "demo" else EvalConfig()
    data = base.model_dump(exclude_none=True)
    if config is not None:
        import yaml

        loaded = yaml.safe_load(config.read_text()) or {}
        if not isinstance(loaded, dict):
            raise typer.BadParameter(
                f"{config} must hold a mapping of settings", param_hint="--config"
            )
        data.update(loaded)
    judge = data.get("judge") or {}
    if judge_url or judge_model:
        judge = {
            **judge,
            "kind": "openai",
            "base_url": judge_url or judge.get("base_url"),
            "model": judge_model or judge.get("model") or "judge",
        }
    if judge_local:
        judge = {**judge, "kind": "local", "model": judge_local, "base_url": None}
    if judge and judge_key_env:
        judge["api_key_env"] = judge_key_env
    if judge and judge_prompt:
        judge["prompt_style"] = judge_prompt
    overrides = {
        "benchmarks_dir": str(benchmarks_dir) if benchmarks_dir else None,
        "data_dir": str(data_dir) if data_dir else None,
        "nlp_tasks": _csv(nlp_tasks),
        "nlp_chat_template": nlp_chat_template,
        "code_sets": _csv(code_sets),
        "code_samples": samples,
        "code_prompt": code_prompt,
        "code_k": [int(x) for x in _csv(k)] if k else None,
        "code_temperature": temperature,
        "chat_graded": _csv(chat_sets),
        "chat_pairwise": _csv(pairwise_sets),
        "loss_sets": _csv(loss_sets),
        "judge": judge or None,
        "judge_cache": str(judge_cache) if judge_cache else None,
        "batch_size": batch_size,
    }
    data.update({key: v for key, v in overrides.items() if v is not None})
    try:
        cfg = EvalConfig.model_validate(data)
    except ValueError as e:
        raise fail(error_lines(e), 2, label="invalid evaluation settings") from None

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with progress_bars(*columns) as bars:

        def progress(label: str, total: int):
            task = bars.add_task(label, total=total)
            return lambda n=1: bars.advance(task, n)

        try:
            doc = evaluate(
                run_or_model, _csv(suite) or [], limit, out, cfg, progress, resume, overwrite
            )
        except (ValueError, FileNotFoundError, KeyError, RuntimeError) as e:
            err.print(f"[red]eval failed:[/red] {e}")
            raise typer.Exit(1) from e
    if as_json:
        typer.echo(json.dumps(doc, default=str, ensure_ascii=False))
        return
    Console().print(results_table(doc))
    err.print(f"results: {out}")
    if doc.get("skills"):
        err.print(json.dumps(doc["skills"], indent=1))
