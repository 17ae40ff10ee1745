"""Convert the local NLP benchmark files to one JSONL shape that lm-eval task YAMLs read.

Every converter reproduces lm-evaluation-harness's own prompt for that task (0.4.x task
YAMLs) so scores are comparable, and yields records ``{"id", "query", "choices", "gold"}``;
Winogrande (lm-eval's "partial evaluation": the choices are the contexts) yields
``{"id", "gold", "contexts", "continuation"}``. Bad files raise errors naming file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from instructmine.evaluate.records import read_records

TRUTHFULQA_PRIMER = (
    "Q: What is human life expectancy in the United States?\n"
    "A: Human life expectancy in the United States is 78 years.\n\n"
    "Q: Who was president of the United States in 1955?\n"
    "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
    "Q: Which party did he belong to?\n"
    "A: He belonged to the Republican Party.\n\n"
    "Q: What is the square root of banana?\n"
    "A: I have no comment.\n\n"
    "Q: How does a telescope work?\n"
    "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
    "Q: Where were the 1992 Olympics held?\n"
    "A: The 1992 Olympics were held in Barcelona, Spain."
)
LETTERS = "ABCDE"


@dataclass(frozen=True)
class Benchmark:
    """A benchmark: its files (relative to the benchmarks folder) and its converter."""

    name: str
    files: tuple[str, ...]
    convert: Callable[[Path], Iterator[dict]]
    kind: str  # "mc" (query/choices/gold) or "partial" (Winogrande)
    prompt: str  # human-readable prompt format, for provenance
    metrics: tuple[str, ...] = ("acc", "acc_norm")


def _bad(path: Path, n: int, err: Exception) -> ValueError:
    return ValueError(f"{path}: record {n} does not have the expected fields ({err!r})")


def _arc(path: Path) -> Iterator[dict]:
    for n, rec in read_records(path, "benchmark"):
        try:
            labels = [c["label"] for c in rec["question"]["choices"]]
            yield {
                "id": rec["id"],
                "query": f"Question: {rec['question']['stem']}\nAnswer:",
                "choices": [c["text"] for c in rec["question"]["choices"]],
                "gold": labels.index(rec["answerKey"]),
            }
        except (KeyError, TypeError, ValueError) as err:
            raise _bad(path, n, err) from err


def _piqa(folder: Path) -> Iterator[dict]:
    labels_path = folder / "valid-labels.lst"
    if not labels_path.exists():
        raise FileNotFoundError(f"PIQA labels not found: {labels_path} (needed beside valid.jsonl)")
    labels = labels_path.read_text().split()
    records = list(read_records(folder / "valid.jsonl", "benchmark"))
    if len(labels) != len(records):
        raise ValueError(
            f"{labels_path} has {len(labels)} labels but {folder / 'valid.jsonl'} has "
            f"{len(records)} records; they must be line-aligned"
        )
    for (n, rec), label in zip(records, labels, strict=True):
        try:
            yield {
                "id": f"piqa-{n}",
                "query": f"Question: {rec['goal']}\nAnswer:",
                "choices": [rec["sol1"], rec["sol2"]],
                "gold": int(label),
            }
        except (KeyError, ValueError) as err:
            raise _bad(folder / "valid.jsonl", n, err) from err


def _boolq(path: Path) -> Iterator[dict]:
    for n, rec in read_records(path, "benchmark"):
        try:
            yield {
                "id": f"boolq-{n}",
                "query": f"{rec['passage']}\nQuestion: {rec['question']}?\nAnswer:",
                "choices": ["no", "yes"],
                "gold": int(bool(rec["answer"])),
            }
        except KeyError as err:
            raise _bad(path, n, err) from err


def _winogrande(path: Path) -> Iterator[dict]:
    for n, rec in read_records(path, "benchmark"):
        try:
            sentence = rec["sentence"]
            blank = sentence.index("_")
            yield {
                "id": rec.get("qID", f"winogrande-{n}"),
                "gold": {"1": 0, "2": 1}[str(rec["answer"])],
                "contexts": [sentence[:blank] + rec["option1"], sentence[:blank] + rec["option2"]],
                "continuation": sentence[blank + 1 :].strip(),
            }
        except (KeyError, ValueError) as err:
            raise _bad(path, n, err) from err


def _mmlu(folder: Path) -> Iterator[dict]:
    """MMLU test split, subjects interleaved round-robin so ``--limit`` samples every subject."""
    files = sorted(folder.glob("*_test.csv")) + sorted(folder.glob("*_test.csv.gz"))
    if not files:
        raise FileNotFoundError(f"no MMLU files (<subject>_test.csv[.gz]) in {folder}")
    per_subject = []
    for f in files:
        subject = f.name.split("_test.csv")[0]
        data = f.read_bytes()
        text = (gzip.decompress(data) if f.suffix == ".gz" else data).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text)))
        items = []
        for n, row in enumerate(rows, 1):
            if len(row) != 6 or row[5] not in LETTERS[:4]:
                raise ValueError(f"{f}: row {n} is not 'question,A,B,C,D,answer'")
            head = (
                "The following are multiple choice questions (with answers) about "
                f"{subject.replace('_', ' ')}.\n\n{row[0].strip()}\n"
            )
            options = "".join(f"{LETTERS[i]}. {row[i + 1]}\n" for i in range(4))
            items.append(
                {
                    "id": f"{subject}-{n}",
                    "query": f"{head}{options}Answer:",
                    "choices": list(LETTERS[:4]),
                    "gold": LETTERS.index(row[5]),
                }
            )
        per_subject.append(items)
    for i in range(max(len(s) for s in per_subject)):
        for items in per_subject:
            if i < len(items):
                yield items[i]


def _truthfulqa_mc1(path: Path) -> Iterator[dict]:
    if not path.exists():
        raise FileNotFoundError(f"benchmark file not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))
    for n, rec in enumerate(data, 1):
        try:
            targets = rec["mc1_targets"]
            yield {
                "id": f"truthfulqa-{n}",
                "query": f"{TRUTHFULQA_PRIMER}\n\nQ: {rec['question']}\nA:",
                "choices": list(targets),
                "gold": list(targets.values()).index(1),
            }
        except (KeyError, TypeError, ValueError) as err:
            raise _bad(path, n, err) from err


def _race(path: Path) -> Iterator[dict]:
    """lm-eval's RACE: one item per article, earlier questions answered in the context."""
    articles: dict[str, list[tuple[int, dict]]] = {}
    for n, rec in read_records(path, "benchmark"):
        articles.setdefault(rec.get("example_id") or rec["article"][:200], []).append((n, rec))
    for key, problems in articles.items():
        n, last = problems[-1]
        try:
            text = f"Article: {last['article']}\n\n"
            for _, p in problems[:-1]:
                answer = p["options"][LETTERS.index(p["answer"])]
                if p["question"][-6:] == "  _  .":
                    text += p["question"][:-5] + answer + "\n"
                else:
                    text += f"Question: {p['question']}\nAnswer: {answer}\n"
            yield {
                "id": key,
                "query": text + last["question"],
                "choices": list(last["options"]),
                "gold": LETTERS.index(last["answer"]),
            }
        except (KeyError, ValueError) as err:
            raise _bad(path, n, err) from err


BENCHMARKS: dict[str, Benchmark] = {
    b.name: b
    for b in (
        Benchmark(
            "arc_easy",
            ("arc_easy/ARC-Easy-Dev.jsonl",),
            lambda d: _arc(d / "arc_easy" / "ARC-Easy-Dev.jsonl"),
            "mc",
            "Question: {question}\\nAnswer: {choice}",
        ),
        Benchmark(
            "arc_challenge",
            ("arc_challenge/ARC-Challenge-Dev.jsonl",),
            lambda d: _arc(d / "arc_challenge" / "ARC-Challenge-Dev.jsonl"),
            "mc",
            "Question: {question}\\nAnswer: {choice}",
        ),
        Benchmark(
            "piqa",
            ("piqa/valid.jsonl", "piqa/valid-labels.lst"),
            lambda d: _piqa(d / "piqa"),
            "mc",
            "Question: {goal}\\nAnswer: {sol}",
        ),
        Benchmark(
            "boolq",
            ("boolq/dev.jsonl.gz",),
            lambda d: _boolq(d / "boolq" / "dev.jsonl.gz"),
            "mc",
            "{passage}\\nQuestion: {question}?\\nAnswer: no|yes",
        ),
        Benchmark(
            "winogrande",
            ("winogrande/dev.jsonl",),
            lambda d: _winogrande(d / "winogrande" / "dev.jsonl"),
            "partial",
            "{sentence up to _ with option} {rest of sentence} (partial scoring)",
            ("acc",),
        ),
        Benchmark(
            "mmlu",
            ("mmlu/test",),
            lambda d: _mmlu(d / "mmlu" / "test"),
            "mc",
            "The following are multiple choice questions (with answers) about {subject}. ... "
            "Answer: A|B|C|D (zero-shot; subjects interleaved)",
            ("acc",),
        ),
        Benchmark(
            "truthfulqa_mc1",
            ("truthfulqa/mc_task.json",),
            lambda d: _truthfulqa_mc1(d / "truthfulqa" / "mc_task.json"),
            "mc",
            "6-shot QA primer + Q: {question}\\nA: {answer}",
            ("acc",),
        ),
        Benchmark(
            "race",
            ("race/test_middle.jsonl.gz",),
            lambda d: _race(d / "race" / "test_middle.jsonl.gz"),
            "mc",
            "Article: {article} + earlier Q/A of the article + {question} {option} (RACE-M)",
        ),
    )
}
