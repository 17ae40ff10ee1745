"""Throughput of ``instructmine eval --suite nlp`` vs lm-eval's own runner on the same items.

lm-eval is our engine, so this measures the overhead of our wrapper: benchmark conversion,
task YAML generation, model loading through ``instructmine.models``, results/provenance
writing. Both sides run as fresh subprocesses on the same prepared task (same YAML, same
items, same model folder, batch size, threads), so process start and model load count for
both; the accuracies must agree exactly.

    .venv/bin/python benchmarks/eval_nlp.py --task arc_easy --limit 50 [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"command failed: {' '.join(cmd)}\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--task", default="arc_easy")
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=None, help="OMP/torch threads for both sides")
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()

    from instructmine.data_dirs import benchmarks_dir
    from instructmine.evaluate.nlp import prepare
    from instructmine.models import resolve

    task = prepare(args.task, benchmarks_dir())
    model_dir = resolve(args.model)  # converts the GGUF once, so neither side pays for it
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    n = min(args.limit, task.n_items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(args.repeats):
            ours_out = Path(tmp) / f"ours{rep}.json"
            ours = _run(
                [
                    str(BIN / "instructmine"),
                    "eval",
                    args.model,
                    "--suite",
                    "nlp",
                    "--nlp-tasks",
                    args.task,
                    "--limit",
                    str(args.limit),
                    "--batch-size",
                    str(args.batch_size),
                    "--no-resume",
                    "-o",
                    str(ours_out),
                ],
                env,
            )
            base_out = Path(tmp) / f"lmeval{rep}"
            base = _run(
                [
                    str(BIN / "lm_eval"),
                    "--model",
                    "hf",
                    "--model_args",
                    f"pretrained={model_dir},dtype=float32",
                    "--tasks",
                    task.task,
                    "--include_path",
                    str(task.folder),
                    "--limit",
                    str(args.limit),
                    "--device",
                    "cpu",
                    "--batch_size",
                    str(args.batch_size),
                    "--output_path",
                    str(base_out),
                ],
                env,
            )
            ours_acc = json.loads(ours_out.read_text())["results"]["nlp"][args.task]["acc"]
            res_file = next(base_out.rglob("results_*.json"))
            base_acc = json.loads(res_file.read_text())["results"][task.task]["acc,none"]
            rows.append((ours, base, ours_acc, base_acc))
    threads = args.threads or "default"
    print(f"task {args.task}, {n} items, batch {args.batch_size}, threads {threads}")
    cols = [
        "run",
        "ours s",
        "ours items/s",
        "lm-eval s",
        "lm-eval items/s",
        "ours/lm-eval speed",
        "acc ours",
        "acc lm-eval",
    ]
    print("| " + " | ".join(cols) + " |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for i, (ours, base, a, b) in enumerate(rows):
        print(
            f"| {i} | {ours:.1f} | {n / ours:.2f} | {base:.1f} | {n / base:.2f} | "
            f"{base / ours:.2f}x | {a:.3f} | {b:.3f} |"
        )
        if abs(a - b) > 1e-9:
            sys.exit(f"accuracies differ: ours {a} vs lm-eval {b}")


if __name__ == "__main__":
    main()
