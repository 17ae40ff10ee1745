"""NLP suite: zero-shot multiple-choice accuracy through lm-evaluation-harness, offline.

Each benchmark's local files are converted (:mod:`.nlp_data`) to a JSONL in a cache folder
together with a task YAML (``dataset_path: json``, ``dataset_kwargs.data_files`` pointing at
it, ``output_type: multiple_choice``); lm-eval's ``simple_evaluate`` then scores an
``HFLM`` built around our already-loaded model (so aliases and run directories work) with
the hub and ``datasets`` forced offline. Reports ``acc`` and ``acc_norm`` (lm-eval's
byte-length-normalised accuracy) with provenance: files + SHA-256, items, prompt, chance.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructmine import atomic, data_dirs
from instructmine.evaluate.nlp_data import BENCHMARKS, Benchmark
from instructmine.offline import offline

FORMAT_VERSION = 1  # bump when a converter's output changes (invalidates the cache)
DEFAULT_NLP = ("arc_easy", "arc_challenge", "piqa", "boolq", "winogrande")


@dataclass
class PreparedTask:
    """A converted benchmark ready for lm-eval."""

    name: str
    task: str  # lm-eval task name
    folder: Path  # holds the task YAML and data.jsonl
    n_items: int
    sources: list[dict]
    chance: list[float]  # per item: 1 / number of choices
    prompt: str
    metrics: tuple[str, ...]


def get_benchmark(name: str) -> Benchmark:
    """Look a benchmark up by name, with a did-you-mean error."""
    if name in BENCHMARKS:
        return BENCHMARKS[name]
    import difflib

    close = difflib.get_close_matches(name, list(BENCHMARKS), n=2)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise KeyError(f"unknown NLP benchmark {name!r}.{hint} Known: {', '.join(BENCHMARKS)}")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _sources(bench: Benchmark, root: Path) -> list[dict]:
    out = []
    for rel in bench.files:
        path = root / rel
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not path.exists():
            raise FileNotFoundError(
                f"{bench.name}: expected {path} (benchmarks folder {root}); point "
                "--benchmarks-dir at a folder holding it"
            )
        out += [{"path": str(p), "sha256": _sha256(p)} for p in files]
    return out


def _yaml(bench: Benchmark, task: str, data: Path) -> str:
    text, choice, target = (
        ("gold", "contexts", "continuation")
        if bench.kind == "partial"
        else ("query", "choices", "gold")
    )
    metrics = "".join(
        f"  - metric: {m}\n    aggregation: mean\n    higher_is_better: true\n"
        for m in bench.metrics
    )
    return (
        f"task: {task}\n"
        "dataset_path: json\n"
        "dataset_kwargs:\n"
        "  data_files:\n"
        f"    test: {json.dumps(str(data))}\n"
        "output_type: multiple_choice\n"
        "test_split: test\n"
        f"doc_to_text: {text}\n"
        f"doc_to_choice: {choice}\n"
        f"doc_to_target: {target}\n"
        f"metric_list:\n{metrics}"
        f"metadata:\n  version: {FORMAT_VERSION}.0\n"
    )


def prepare(name: str, benchmarks_dir: Path, cache_root: Path | None = None) -> PreparedTask:
    """Convert one benchmark (once per content hash) and write its lm-eval task YAML."""
    from instructmine.models import cache_dir

    bench = get_benchmark(name)
    sources = _sources(bench, benchmarks_dir)
    key = hashlib.sha256(
        json.dumps([FORMAT_VERSION, name, [s["sha256"] for s in sources]]).encode()
    ).hexdigest()[:16]
    folder = (cache_root or cache_dir() / "benchmarks") / f"{name}-{key}"
    data, meta_path = folder / "data.jsonl", folder / "meta.json"
    task = f"instructmine_{name}"
    if not meta_path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        chance = []
        with atomic.atomic_open(data, "w", encoding="utf-8") as fh:
            for rec in bench.convert(benchmarks_dir):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                chance.append(1 / len(rec["contexts" if bench.kind == "partial" else "choices"]))
        atomic.write_text(folder / f"{task}.yaml", _yaml(bench, task, data))
        atomic.write_json(meta_path, {"chance": chance})
    chance = json.loads(meta_path.read_text())["chance"]
    return PreparedTask(
        name, task, folder, len(chance), sources, chance, bench.prompt, bench.metrics
    )


def make_lm(model: Any, tokenizer: Any, batch_size: int = 8, max_length: int | None = None) -> Any:
    """An lm-eval ``HFLM`` around an already-loaded causal LM and tokenizer (CPU)."""
    from lm_eval.models.huggingface import HFLM

    return HFLM(
        pretrained=model,
        tokenizer=tokenizer,
        batch_size=batch_size,
        device="cpu",
        max_length=max_length,
    )


def run_lm_eval(
    lm: Any, tasks: Sequence[PreparedTask], limit: int | None, chat_template: bool = False
) -> dict:
    """Call ``lm_eval.simple_evaluate`` on prepared tasks, offline; returns its raw output.

    ``chat_template`` wraps each prompt in the tokenizer's chat template (lm-eval's
    ``--apply_chat_template``), which instruction-tuned models may need.
    """
    with offline():
        import lm_eval
        from lm_eval.tasks import TaskManager

        quiet = logging.getLogger("lm_eval")  # warnings, unless made quieter (cli/quiet.py)
        quiet.setLevel(max(logging.WARNING, quiet.level))
        manager = TaskManager(include_path=[str(t.folder) for t in tasks], include_defaults=False)
        return lm_eval.simple_evaluate(
            model=lm,
            tasks=[t.task for t in tasks],
            task_manager=manager,
            limit=limit,
            num_fewshot=0,
            log_samples=False,
            bootstrap_iters=1000,  # acc/acc_norm stderr is closed-form (no resampling)
            apply_chat_template=chat_template,
            verbosity="WARNING",
        )


def run_nlp(
    model: Any,
    tokenizer: Any,
    names: Sequence[str] = DEFAULT_NLP,
    benchmarks_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    batch_size: int = 8,
    on_task: Any = None,
    chat_template: bool = False,
) -> dict:
    """Score a loaded model on NLP benchmarks; one result dict per benchmark.

    ``on_task(name)`` is called after each benchmark (for progress bars); ``chat_template``
    wraps prompts in the model's chat template (see :func:`run_lm_eval`).
    """
    import lm_eval

    root = data_dirs.benchmarks_dir(benchmarks_dir)
    prepared = [prepare(n, root) for n in names]
    lm = make_lm(model, tokenizer, batch_size=batch_size)
    out: dict[str, dict] = {}
    for task in prepared:
        raw = run_lm_eval(lm, [task], limit, chat_template)
        res = raw["results"][task.task]
        n_eval = raw.get("n-samples", {}).get(task.task, {}).get("effective")
        n_eval = n_eval if n_eval is not None else min(limit or task.n_items, task.n_items)
        chance = task.chance[:n_eval]
        out[task.name] = {
            **{m: float(res[f"{m},none"]) for m in task.metrics},
            **{
                f"{m}_stderr": float(res[f"{m}_stderr,none"])
                for m in task.metrics
                if isinstance(res.get(f"{m}_stderr,none"), (int, float))
            },
            "chance": sum(chance) / len(chance),
            "n_items": n_eval,
            "n_available": task.n_items,
            "data": {
                "benchmarks_dir": str(root),
                "files": task.sources,
                "prepared": str(task.folder / "data.jsonl"),
                "prompt": task.prompt,
                "chat_template": chat_template,
            },
            "engine": f"lm-eval {lm_eval.__version__} (zero-shot, log-likelihood)",
        }
        if on_task is not None:
            on_task(task.name)
    return out
