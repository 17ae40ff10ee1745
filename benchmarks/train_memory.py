"""Fine-tune memory: the chunked LM-head loss + micro-batches vs the full-logits, whole-batch path.

Both sides are ``instructmine.train.train`` on the same records, model, seed and settings; they
differ only in ``loss_chunk`` / ``micro_batch_tokens`` (old: ``0`` / ``0``, the path before
issue 30; new: the defaults). Each side runs in its own subprocess under ``/usr/bin/time -v``
(peak RSS of the whole process: model load, training, eval), sides alternate (old, new, old,
new, ...) when ``--repeats`` > 1. Reported per method: peak RSS, train seconds (the trainer's
``train_runtime``), eval loss on held-out records after training, and new/old ratios.

Run: ``PYTHONPATH=src .venv/bin/python benchmarks/train_memory.py --steps 12 --methods lora``
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train import _records, _write_pool  # benchmarks/train.py

SIDES = {"old": {"loss_chunk": 0, "micro_batch_tokens": 0}, "new": {}}


def child(args) -> None:
    from instructmine.train import TrainConfig, eval_loss, load_for_eval, train

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            model=args.model,
            method=args.method,
            max_length=args.max_length,
            seed=args.seed,
            lora={"r": 16, "alpha": 32, "dropout": 0.05},
            sft={"per_device_train_batch_size": args.batch, "max_steps": args.steps,
                 "learning_rate": 2e-4 if args.method == "lora" else 2e-5},
            **SIDES[args.side],
        )  # fmt: skip
        res = train(args.pool, Path(out) / "run", cfg, progress=False)
        model, tok, _ = load_for_eval(res.run_dir)
        ev = eval_loss(model, tok, args.eval_pool, max_length=args.max_length)
    Path(args.result).write_text(
        json.dumps(
            {
                "train_seconds": res.train_seconds,
                "tokens": res.tokens,
                "loss_curve": res.loss_curve,
                "eval_loss": ev.mean_loss,
            }
        )
    )


def _timed(cmd: list[str]) -> float:
    """Run ``cmd`` under ``/usr/bin/time -v``; return its peak RSS in GB."""
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], capture_output=True, text=True)
    if proc.returncode:
        sys.stderr.write(proc.stderr[-3000:])
        raise SystemExit(f"child failed: {' '.join(cmd)}")
    kb = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return int(kb.group(1)) / 1024**2 if kb else float("nan")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--methods", nargs="+", choices=["lora", "full"], default=["lora"])
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-records", type=int, default=40)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--pool", help=argparse.SUPPRESS)
    p.add_argument("--eval-pool", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        child(args)
        return
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        pool, eval_pool = Path(tmp) / "train.parquet", Path(tmp) / "eval.parquet"
        _write_pool(pool, _records(args.steps * args.batch))
        _write_pool(eval_pool, _records(args.eval_records, offset=4000))
        for method in args.methods:
            got: dict[str, list[dict]] = {s: [] for s in SIDES}
            for rep in range(args.repeats):
                for side in SIDES:
                    res = Path(tmp) / f"{method}-{side}-{rep}.json"
                    cmd = [sys.executable, __file__, "--side", side, "--method", method,
                           "--pool", str(pool), "--eval-pool", str(eval_pool),
                           "--result", str(res)]  # fmt: skip
                    for k in ("model", "steps", "batch", "max_length", "seed"):
                        cmd += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
                    rss = _timed(cmd)
                    r = json.loads(res.read_text()) | {"peak_rss_gb": rss}
                    got[side].append(r)
                    print(
                        f"{method} {side} rep {rep}: peak RSS {rss:.2f} GB, "
                        f"train {r['train_seconds']:.1f} s, eval loss {r['eval_loss']:.4f}",
                        flush=True,
                    )
            keys = ("peak_rss_gb", "train_seconds")
            med = {s: {k: statistics.median(r[k] for r in v) for k in keys} for s, v in got.items()}
            rows[method] = {
                "sides": got,
                "rss_ratio": med["new"]["peak_rss_gb"] / med["old"]["peak_rss_gb"],
                "time_ratio": med["new"]["train_seconds"] / med["old"]["train_seconds"],
                "eval_loss_diff": statistics.mean(
                    n["eval_loss"] - o["eval_loss"]
                    for n, o in zip(got["new"], got["old"], strict=True)
                ),
            }
            m = rows[method]
            print(
                f"{method}: peak RSS new/old {m['rss_ratio']:.2f} "
                f"({med['new']['peak_rss_gb']:.2f} vs {med['old']['peak_rss_gb']:.2f} GB), "
                f"train time new/old {m['time_ratio']:.2f}, "
                f"eval loss new - old {m['eval_loss_diff']:+.4f}",
                flush=True,
            )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
