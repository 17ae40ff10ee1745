"""Contamination table: every shared training source against every shared eval set.

    PYTHONPATH=src python benchmarks/decontaminate_table.py [--work DIR] [--embed] > table.md

Training sources are ingested with ``instructmine ingest`` (one pool each). Eval sets are
written as canonical pools by this script, one record per eval item with the set's own ids
(``mt_bench:81``), prompt turns and the reference answer when the set has one:
``instructmine ingest`` keeps only records with an answer, which would drop 45 of MT-Bench's 80
questions and 70 of Vicuna's 80. Then ``instructmine decontaminate SOURCE --against EVAL... -o
CLEAN --keep-hits --json`` runs once per source, and the hits files are tabulated: distinct
pool records hit per source x eval set and level, plus example hits.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pyarrow.parquet as pq

DATA = Path("/work/shared/data")
SOURCES = {  # name -> files or folders given to `instructmine ingest`
    "alpaca_5000": ["alpaca_5000/alpaca_5000.json.gz"],
    "alpaca_gpt4_sample": ["alpaca_gpt4_sample/alpaca_en_demo.json.gz"],
    "alpagasus_9k": ["alpagasus/random_9k.json.gz"],
    "dolly_3k": ["alpagasus/dolly_3k.json.gz"],
    "codealpaca": [
        "codealpaca/code_alpaca_2k.json.gz",
        "codealpaca/new_codealpaca.json.gz",
        "codealpaca/seed_tasks.jsonl",
    ],
    "gpteacher": ["gpteacher"],
    "gsm8k_alpaca": ["gsm8k_alpaca/gsm_8k_train.json.gz"],
    "p3_t0_sample": ["p3_t0_sample/templates"],
}


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _item(iid: str, questions: list[str], answers: list[str] | None = None) -> dict:
    msgs = []
    for i, q in enumerate(questions):
        msgs.append({"role": "user", "content": q})
        if answers and i < len(answers) and answers[i]:
            msgs.append({"role": "assistant", "content": answers[i]})
    return {"id": iid, "source": iid.split(":")[0], "messages": msgs}


def _fastchat(folder: str, name: str) -> list[dict]:
    refs = {
        r["question_id"]: r["choices"][0]["turns"]
        for r in _jsonl(DATA / folder / "reference_answer_gpt-4.jsonl")
    }
    return [
        _item(
            f"{name}:{q['question_id']}",
            q["turns"],
            q.get("reference") or refs.get(q["question_id"]),
        )
        for q in _jsonl(DATA / folder / "question.jsonl")
    ]


def eval_sets() -> dict[str, list[dict]]:
    """Every shared eval set whose items are instructions, as canonical records."""
    si = []
    for r in _jsonl(DATA / "self_instruct_user_oriented/user_oriented_instructions.jsonl"):
        inst = r["instances"][0]
        q = r["instruction"] + (f"\n\n{inst['input']}" if inst.get("input") else "")
        si.append(_item(f"self_instruct:{r['id']}", [q], [inst.get("output", "")]))
    with gzip.open(DATA / "alpaca_eval/text_davinci_003_model_outputs.json.gz", "rt") as f:
        ae = [
            _item(f"alpaca_eval:{i}", [r["instruction"]], [r["output"]])
            for i, r in enumerate(json.load(f))
        ]
    flask = [
        _item(f"flask:{r['idx']}", [r["instruction"]], [r.get("answer", "")])
        for r in _jsonl(DATA / "benchmarks/flask/flask_evaluation.jsonl.gz")
    ]
    gsm = [
        _item(f"gsm8k_test:{i}", [r["question"]], [r["answer"]])
        for i, r in enumerate(_jsonl(DATA / "benchmarks/gsm8k/test.jsonl"))
    ]
    mbpp = [
        _item(f"mbpp:{r['task_id']}", [r["text"]], [r["code"]])
        for r in _jsonl(DATA / "benchmarks/mbpp/mbpp.jsonl")
    ]
    with open(DATA / "benchmarks/truthfulqa/TruthfulQA.csv", encoding="utf-8-sig") as f:
        tqa = [
            _item(f"truthfulqa:{i}", [r["Question"]], [r["Best Answer"]])
            for i, r in enumerate(csv.DictReader(f))
        ]
    return {
        "self_instruct": si,
        "alpaca_eval": ae,
        "mt_bench": _fastchat("mt_bench", "mt_bench"),
        "vicuna_bench": _fastchat("vicuna_bench", "vicuna_bench"),
        "flask": flask,
        "gsm8k_test": gsm,
        "mbpp": mbpp,
        "truthfulqa": tqa,
    }


def _cli(*args: str) -> str:
    cmd = [sys.executable, "-c", "from instructmine.cli import main; main()", *args]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode not in (0, 3):  # 3: ingest kept a partial pool (reported in its summary)
        sys.exit(f"failed: {' '.join(args)}\n{run.stderr}")
    return run.stdout


def main() -> None:
    from instructmine.schema import table_from_records

    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/tmp/decontaminate_table"))
    ap.add_argument("--embed", action="store_true", help="also level 3 (MiniLM embeddings)")
    ap.add_argument("--examples", type=int, default=3, help="example hits per level")
    args = ap.parse_args()
    work = args.work
    (work / "eval").mkdir(parents=True, exist_ok=True)
    (work / "pools").mkdir(exist_ok=True)
    (work / "clean").mkdir(exist_ok=True)
    evals = {}
    for name, records in eval_sets().items():
        path = work / "eval" / f"{name}.parquet"
        pq.write_table(table_from_records(records), path)
        evals[name] = (path, len(records))
    flags = ["--embed"] if args.embed else []
    cells: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    rows, examples = {}, defaultdict(list)
    for src, files in SOURCES.items():
        pool = work / "pools" / f"{src}.parquet"
        if not pool.exists():
            _cli("ingest", *(str(DATA / f) for f in files), "-o", str(pool), "--source", src)
        against = [x for _, (p, _) in evals.items() for x in ("--against", str(p))]
        out = work / "clean" / f"{src}.parquet"
        summary = json.loads(
            _cli(
                "decontaminate",
                str(pool),
                *against,
                "-o",
                str(out),
                "--keep-hits",
                *flags,
                "--json",
            )
        )
        rows[src] = summary
        prompts = _first_turns(pool)
        for line in Path(summary["hits_path"]).read_bytes().splitlines():
            h = json.loads(line)
            ev = Path(h["eval_file"]).stem
            level = h["level"]
            if level == "ngram" and "prompt" not in h["evidence"]["eval_fields"]:
                level = "ngram_ref"
            cells[(src, ev)][level].add(h["pool_id"])
            shown = {(e[1], e[3]["pool_id"]) for e in examples[level]}
            if len(examples[level]) < args.examples and not {ev, h["pool_id"]} & {
                x for pair in shown for x in pair
            }:
                examples[level].append((src, ev, prompts.get(h["pool_id"], ""), h))
    print(_markdown(rows, evals, cells, examples, args.embed))
    (work / "table.json").write_text(
        json.dumps(
            {f"{s}|{e}": {lv: len(ids) for lv, ids in c.items()} for (s, e), c in cells.items()},
            indent=1,
        )
    )


def _first_turns(pool: Path) -> dict[str, str]:
    t = pq.read_table(pool, columns=["id", "messages"])
    return {
        rid: msgs[0]["content"]
        for rid, msgs in zip(
            t.column("id").to_pylist(), t.column("messages").to_pylist(), strict=True
        )
    }


LEVELS = {
    "ngram": "13-gram shared with the eval prompt",
    "ngram_ref": "13-gram shared with the reference answer only",
    "prompt": "short eval prompt (< 13 words) equal to a pool turn",
    "near": "MinHash near duplicate of an eval prompt (exact Jaccard of word bigrams >= 0.7)",
    "embedding": "MiniLM cosine >= 0.92",
}


def _markdown(rows, evals, cells, examples, embed: bool) -> str:
    levels = [lv for lv in LEVELS if embed or lv != "embedding"]
    names = list(evals)
    out = ["Eval sets (items): " + ", ".join(f"{n} ({k:,})" for n, (_, k) in evals.items()), ""]
    for lv in levels:
        out += [f"**{lv}**: pool records with a {LEVELS[lv]}", ""]
        out.append("| source (records) | " + " | ".join(names) + " | any |")
        out.append("|---" * (len(names) + 2) + "|")
        for src, s in rows.items():
            per = [len(cells[(src, e)][lv]) for e in names]
            anyset = set().union(*(cells[(src, e)][lv] for e in names))
            out.append(
                f"| {src} ({s['records']:,}) | "
                + " | ".join(str(v) if v else "·" for v in per)
                + f" | {len(anyset)} |"
            )
        out.append("")
    out += [
        "Records hit at any level, per source: "
        + ", ".join(f"{src} {s['records_hit']:,}" for src, s in rows.items()),
        "",
        "Example hits:",
        "",
    ]
    for lv in levels:
        for src, _ev, prompt, h in examples.get(lv, []):
            p = " ".join(prompt.split())[:110]
            e = " ".join(h["eval_prompt"].split())[:110]
            out.append(
                f'- {lv}: `{src}` {h["pool_id"]} "{p}" ↔ `{h["eval_id"]}` "{e}" — '
                f"{json.dumps(h['evidence'], ensure_ascii=False)[:160]}"
            )
    return "\n".join(out)


if __name__ == "__main__":
    main()
