"""Regenerate ``src/instructmine/data/eval_sample/``: the first records of each evaluation set the
offline demo uses, copied from ``../shared/data`` in the same folder layout (byte-for-byte lines).

Run from the repository root: ``.venv/bin/python scripts/make_eval_sample.py``.
"""

import gzip
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / ".." / "shared" / "data"
DST = REPO / "src" / "instructmine" / "data" / "eval_sample"

LINES = {  # file -> number of leading lines kept
    "mt_bench/question.jsonl": 10,
    "self_instruct_user_oriented/user_oriented_instructions.jsonl": 40,
    "benchmarks/arc_easy/ARC-Easy-Dev.jsonl": 40,
    "benchmarks/piqa/valid.jsonl": 40,
    "benchmarks/piqa/valid-labels.lst": 40,
    "benchmarks/boolq/dev.jsonl.gz": 40,
}


def _open(path: Path, mode: str):
    return gzip.open(path, mode, encoding="utf-8") if path.suffix == ".gz" else path.open(mode)


def main() -> None:
    for rel, n in LINES.items():
        (DST / rel).parent.mkdir(parents=True, exist_ok=True)
        with _open(SRC / rel, "rt") as src, _open(DST / rel, "wt") as dst:
            for _, line in zip(range(n), src, strict=False):
                dst.write(line)
    # MT-Bench references for the kept questions only.
    kept = {json.loads(x)["question_id"] for x in (DST / "mt_bench/question.jsonl").open()}
    rel = "mt_bench/reference_answer_gpt-4.jsonl"
    with (SRC / rel).open() as src, (DST / rel).open("w") as dst:
        dst.writelines(x for x in src if json.loads(x)["question_id"] in kept)
    # AlpacaEval: a JSON array; keep the first 10 records.
    rel = "alpaca_eval/text_davinci_003_model_outputs.json.gz"
    with gzip.open(SRC / rel, "rt", encoding="utf-8") as f:
        records = json.load(f)[:10]
    (DST / rel).parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(DST / rel, "wt", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=2)


if __name__ == "__main__":
    main()
