"""``instructmine eval``: NLP benchmarks, HumanEval/MBPP, judge-graded chat, eval loss."""

from pathlib import Path
from typing import Annotated

import typer

from instructmine.cli.app import app
from instructmine.cli.options import AsJson, Overwrite, Sets, out_option


def _opt(help: str, *names: str, **kw) -> typer.models.OptionInfo:
    return typer.Option(*names, help=help, **kw)


Target = Annotated[
    str, typer.Argument(help="Run folder, model alias (smollm2-135m-instruct), folder or hub id.")
]
Suite = Annotated[str, _opt("Comma-separated: nlp, code, chat, loss.")]
Limit = Annotated[int | None, _opt("First N items per benchmark (N >= 1).", min=1)]
Out = Annotated[Path, out_option("Results JSON.")]
Preset = Annotated[str | None, _opt("'demo': a cheap setting (~1-2 min on 2 CPU cores).")]
Config = Annotated[Path | None, _opt("YAML/JSON file of EvalConfig settings.")]
Dir = Annotated[Path | None, _opt("Benchmarks folder (default ../shared/data/benchmarks).")]
DataDir = Annotated[Path | None, _opt("Chat/loss sets folder (default ../shared/data).")]
Tasks = Annotated[
    str | None, _opt("arc_easy,arc_challenge,piqa,boolq,winogrande,mmlu,truthfulqa_mc1,race")
]
ChatTemplate = Annotated[bool | None, _opt("Wrap NLP prompts in the model's chat template.")]
CodeSets = Annotated[str | None, _opt("humaneval,mbpp")]
CodePrompt = Annotated[
    str | None, _opt("raw (continue the prompt, HumanEval protocol) or chat (code block).")
]
Samples = Annotated[int | None, _opt("Completions per problem (pass@k).", min=1)]
K = Annotated[str | None, _opt("pass@k values, e.g. 1,10.")]
Temperature = Annotated[float | None, _opt("Code sampling temperature.")]
ChatSets = Annotated[str | None, _opt("Graded sets: mt_bench,self_instruct,flask,vicuna.")]
Pairwise = Annotated[str | None, _opt("Win-rate sets (vs reference outputs): alpaca_eval.")]
LossSets = Annotated[str | None, _opt("Eval-loss sets: self_instruct,mt_bench,alpaca_eval.")]
JudgeUrl = Annotated[str | None, _opt("OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")]
JudgeModel = Annotated[str | None, _opt("Model name at the judge URL.")]
JudgeKeyEnv = Annotated[str | None, _opt("Name of the env var holding the judge API key.")]
JudgeLocal = Annotated[str | None, _opt("Judge with a local transformers model instead.")]
JudgePrompt = Annotated[str | None, _opt("mt-bench (default) or terse (for small judges).")]
JudgeCache = Annotated[Path | None, _opt("SQLite judgment cache.")]
Batch = Annotated[int | None, _opt("Batch size (scoring, generation).")]
Resume = Annotated[bool, _opt("Reuse suites already in OUT for the same model and settings.")]


@app.command("eval")
def eval_command(
    run_or_model: Target,
    suite: Suite = "nlp,code,loss",
    limit: Limit = None,
    out: Out = Path("eval_results.json"),
    preset: Preset = None,
    config: Config = None,
    sets: Sets = None,
    benchmarks_dir: Dir = None,
    data_dir: DataDir = None,
    nlp_tasks: Tasks = None,
    nlp_chat_template: ChatTemplate = None,
    code_sets: CodeSets = None,
    code_prompt: CodePrompt = None,
    samples: Samples = None,
    k: K = None,
    temperature: Temperature = None,
    chat_sets: ChatSets = None,
    pairwise_sets: Pairwise = None,
    loss_sets: LossSets = None,
    judge_url: JudgeUrl = None,
    judge_model: JudgeModel = None,
    judge_key_env: JudgeKeyEnv = None,
    judge_local: JudgeLocal = None,
    judge_prompt: JudgePrompt = None,
    judge_cache: JudgeCache = None,
    batch_size: Batch = None,
    resume: Resume = True,
    as_json: AsJson = False,
    overwrite: Overwrite = False,
) -> None:
    """Evaluate RUN_OR_MODEL and write one JSON of results per benchmark and per skill."""
    from instructmine.cli.output import print_json
    from instructmine.evaluate.command import csv, eval_settings, render_eval, run_eval

    cfg = eval_settings(preset, config, sets, locals())
    doc = run_eval(run_or_model, csv(suite) or [], limit, out, cfg, resume, overwrite)
    print_json(doc) if as_json else render_eval(doc, out)
