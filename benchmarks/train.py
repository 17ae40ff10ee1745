"""Training speed: instructmine's trainer vs trl's ``SFTTrainer`` configured sensibly for a CPU.

Both sides fine-tune the same model with the same LoRA config on the same pre-tokenised
examples (``instructmine.prompting.encode``: chat template, loss on the response only,
truncated to ``--max-length``), the same batch size, learning rate, seed and number of steps,
one epoch over exactly ``steps * batch`` records, so both see the same examples. Each side runs
in a fresh subprocess (separate peak RSS), sides alternate when ``--repeats`` > 1.

- baseline: ``trl.SFTTrainer`` with fp32, no bf16, no gradient checkpointing, ``use_cpu``,
  padded batches in random order (trl's default collator; its padding-free mode is documented
  as FlashAttention-only), trl's own loss (fused, chunked LM head over every position);
- ours: ``instructmine.train.train`` (length-grouped batches, LM head only at labelled
  positions; padded or padding-free rows per ``--variant``).

Tokens/s counts real (non-padding) input tokens over the trainer's own ``train_runtime``
(model loading excluded) on both sides. Both report the final training loss (mean of the
last 5 steps) and the eval loss on held-out records, so speed is not bought with worse training.

Run: ``.venv/bin/python benchmarks/train.py [--steps 20] [--batch 8] [--max-length 256]``
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "data").resolve()


def _records(n: int, offset: int = 0) -> list[dict]:
    path = SHARED / "alpaca_5000" / "alpaca_5000.json.gz"
    if path.is_file():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = json.load(f)
    else:  # the bundled sample, when the shared data is absent
        from instructmine.io import sample_data_dir

        rows = json.loads((sample_data_dir() / "alpaca.json").read_text(encoding="utf-8"))
    rows = rows[offset : offset + n]
    if len(rows) < n:
        raise SystemExit(f"need {n} records from offset {offset}, have {len(rows)}")
    out = []
    for i, r in enumerate(rows):
        user = r["instruction"] + ("\n\n" + r["input"] if r.get("input") else "")
        out.append(
            {
                "id": f"alpaca-{offset + i}",
                "source": "alpaca_5000",
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": r["output"]},
                ],
            }
        )
    return out


def _write_pool(path: Path, records: list[dict]) -> None:
    import pyarrow.parquet as pq

    from instructmine.schema import table_from_records

    pq.write_table(table_from_records(records), path)


def _lora(args):
    from peft import LoraConfig

    return LoraConfig(
        r=args.lora_r,
        lora_alpha=2 * args.lora_r,
        lora_dropout=0.05,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def run_baseline(args, pool: Path, eval_pool: Path) -> dict:
    """trl's SFTTrainer, sensible CPU settings, same data and hyper-parameters."""
    from datasets import Dataset
    from transformers import set_seed
    from trl import SFTConfig, SFTTrainer

    from instructmine.models import load_causal_lm
    from instructmine.train import eval_loss
    from instructmine.train.data import encode_conversations, read_conversations

    set_seed(args.seed)
    model, tok = load_causal_lm(args.model)
    enc = encode_conversations(tok, read_conversations(pool), "auto", args.max_length)
    data = Dataset.from_dict(
        {"input_ids": [r.input_ids for r in enc.records], "labels": [r.labels for r in enc.records]}
    )
    with tempfile.TemporaryDirectory() as out:
        cfg = SFTConfig(
            output_dir=out,
            per_device_train_batch_size=args.batch,
            num_train_epochs=1,
            max_steps=args.steps,
            learning_rate=args.lr,
            logging_steps=1,
            save_strategy="no",
            report_to="none",
            disable_tqdm=True,
            bf16=False,
            fp16=False,
            activation_checkpointing=False,
            use_cpu=True,
            seed=args.seed,
            data_seed=args.seed,
            max_length=None,  # examples arrive truncated to --max-length
        )
        trainer = SFTTrainer(
            model=model, args=cfg, train_dataset=data, processing_class=tok, peft_config=_lora(args)
        )
        res = trainer.train()
    curve = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    ev = eval_loss(trainer.model, tok, eval_pool, max_length=args.max_length)
    tokens = int(trainer._total_train_tokens)
    runtime = float(res.metrics["train_runtime"])
    return {
        "tokens": tokens,
        "train_seconds": runtime,
        "tokens_per_second": tokens / runtime,
        "loss_curve": curve,
        "eval_loss": ev.mean_loss,
    }


def run_ours(args, pool: Path, eval_pool: Path) -> dict:
    """instructmine.train.train with the same model, data and hyper-parameters."""
    from instructmine.models import load_for_eval
    from instructmine.train import TrainConfig, eval_loss, train

    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(
            model=args.model,
            max_length=args.max_length,
            seed=args.seed,
            padding_free=args.variant == "padding_free",
            packing=False,
            group_by_length=True,
            lora={"r": args.lora_r, "alpha": 2 * args.lora_r, "dropout": 0.05},
            sft={"per_device_train_batch_size": args.batch, "max_steps": args.steps,
                 "learning_rate": args.lr},
        )  # fmt: skip
        res = train(pool, Path(out) / "run", cfg, progress=False)
        model, tok, _ = load_for_eval(res.run_dir)
        ev = eval_loss(model, tok, eval_pool, max_length=args.max_length)
    return {
        "tokens": res.tokens,
        "train_seconds": res.train_seconds,
        "tokens_per_second": res.tokens_per_second,
        "loss_curve": res.loss_curve,
        "eval_loss": ev.mean_loss,
    }


def child(args) -> None:
    pool, eval_pool = Path(args.pool), Path(args.eval_pool)
    fn = run_baseline if args.side == "baseline" else run_ours
    out = fn(args, pool, eval_pool)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    Path(args.result).write_text(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="smollm2-135m-instruct")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--lora-r", type=int, default=16)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-records", type=int, default=40)
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument(
        "--variants",
        nargs="+",
        choices=["padded", "padding_free"],
        default=["padded"],
        help="batch layouts of ours to measure (each against the same baseline)",
    )
    p.add_argument("--variant", default="padded", help=argparse.SUPPRESS)
    p.add_argument("--side", choices=["baseline", "ours"], help=argparse.SUPPRESS)
    p.add_argument("--pool", help=argparse.SUPPRESS)
    p.add_argument("--eval-pool", help=argparse.SUPPRESS)
    p.add_argument("--result", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side:
        child(args)
        return

    n = args.steps * args.batch
    with tempfile.TemporaryDirectory() as tmp:
        pool, eval_pool = Path(tmp) / "train.parquet", Path(tmp) / "eval.parquet"
        _write_pool(pool, _records(n))
        _write_pool(eval_pool, _records(args.eval_records, offset=4000))
        names = ["baseline"] + [f"ours:{v}" for v in args.variants]
        results: dict[str, list[dict]] = {name: [] for name in names}
        for rep in range(args.repeats):
            for name in names:
                side, _, variant = name.partition(":")
                res_path = Path(tmp) / f"{side}-{variant}-{rep}.json"
                cmd = [sys.executable, __file__, "--side", side, "--pool", str(pool),
                       "--eval-pool", str(eval_pool), "--result", str(res_path),
                       "--variant", variant or "padded"]  # fmt: skip
                for k in ("model", "steps", "batch", "max_length", "lr", "lora_r", "seed"):
                    cmd += [f"--{k.replace('_', '-')}", str(getattr(args, k))]
                t = time.perf_counter()
                subprocess.run(cmd, check=True)
                r = json.loads(res_path.read_text())
                r["wall_seconds"] = time.perf_counter() - t
                results[name].append(r)
                print(
                    f"{name:17s} rep {rep}: {r['tokens_per_second']:7.1f} tok/s "
                    f"({r['tokens']} tokens in {r['train_seconds']:.1f} s), "
                    f"final loss {statistics.mean(r['loss_curve'][-5:]):.4f}, "
                    f"eval loss {r['eval_loss']:.4f}, peak RSS {r['peak_rss_mb']:.0f} MB",
                    flush=True,
                )
    med = {s: statistics.median(r["tokens_per_second"] for r in rs) for s, rs in results.items()}
    print(f"\nsteps {args.steps} x batch {args.batch}, max_length {args.max_length}:")
    for name in names[1:]:
        print(
            f"  {name}: {med[name]:.1f} tok/s vs baseline {med['baseline']:.1f} tok/s "
            f"= {med[name] / med['baseline']:.2f}x"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
