"""How much BoolQ signal does a model have, independent of its yes/no bias?

The NLP suite's BoolQ accuracy (lm-eval's prompt and metric) can sit at or below the
majority-class rate for a small model. This script separates the two possible reasons, on the
first N BoolQ dev items, for several prompt formats:

- ``acc``: argmax of log P(yes) vs log P(no) (what lm-eval's ``acc`` does for BoolQ);
- ``auc``: ROC AUC of the log-odds log P(yes) - log P(no) against the gold answer. It does not
  depend on the bias or the class balance: 0.5 means the model's preference carries no
  information about the answer, whatever its threshold;
- ``pred_yes``: the share of items answered "yes" (the bias);
- the majority-class rate of the items.

Formats: ``plain`` (lm-eval's ``{passage}\\nQuestion: {question}?\\nAnswer:``), ``chat`` (the
question in the model's chat template, "Answer with yes or no.", reply scored on Yes/No),
``4shot`` (four solved dev items before the plain prompt; they are the last four dev items and
are never evaluated).

Run: ``.venv/bin/python benchmarks/boolq_signal.py [--model smollm2-135m-instruct] [--items 200]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m-instruct")
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--formats", nargs="+", default=["plain", "chat", "4shot"])
    ap.add_argument("--benchmarks-dir", help="as for `instructmine eval` (default: ../shared/...)")
    args = ap.parse_args()

    import torch
    from sklearn.metrics import roc_auc_score

    from instructmine.data_dirs import benchmarks_dir
    from instructmine.evaluate.nlp import get_benchmark
    from instructmine.evaluate.records import read_records
    from instructmine.models import load_causal_lm

    root = benchmarks_dir(args.benchmarks_dir)
    dev = [rec for _, rec in read_records(root / "boolq" / "dev.jsonl.gz", "benchmark")]
    # the NLP suite's own BoolQ conversion supplies lm-eval's prompt text
    for rec, item in zip(dev, get_benchmark("boolq").convert(root), strict=True):
        rec["query"] = item["query"]
    shots, items = dev[-4:], dev[: min(args.items, len(dev) - 4)]
    gold = np.array([int(bool(r["answer"])) for r in items])
    model, tok = load_causal_lm(args.model)
    model.eval()

    def plain(r: dict) -> str:
        return r["query"]

    def chat(r: dict) -> str:
        user = f"{r['passage']}\n\nQuestion: {r['question']}? Answer with yes or no."
        msgs = [{"role": "user", "content": user}]
        return tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)

    def four_shot(r: dict) -> str:
        solved = "".join(f"{plain(s)} {'yes' if s['answer'] else 'no'}\n\n" for s in shots)
        return solved + plain(r)

    formats = {
        "plain": (plain, " yes", " no"),
        "chat": (chat, "Yes", "No"),
        "4shot": (four_shot, " yes", " no"),
    }
    majority = float(max(gold.mean(), 1 - gold.mean()))
    results = {"model": args.model, "items": len(items), "majority": majority}
    for name in args.formats:
        prompt, yes, no = formats[name]
        y, n = (tok(s, add_special_tokens=False).input_ids for s in (yes, no))
        assert len(y) == len(n) == 1, "yes/no must be single tokens for this script"
        start = time.perf_counter()
        odds = []
        with torch.inference_mode():
            for r in items:
                ids = tok(prompt(r), return_tensors="pt").input_ids
                logp = torch.log_softmax(model(input_ids=ids).logits[0, -1].float(), -1)
                odds.append(float(logp[y[0]] - logp[n[0]]))
        lo = np.array(odds)
        results[name] = {
            "acc": float(((lo > 0) == gold).mean()),
            "auc": float(roc_auc_score(gold, lo)),
            "pred_yes": float((lo > 0).mean()),
            "seconds": time.perf_counter() - start,
        }
        print(name, json.dumps(results[name]), flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
