"""The bundled demo sample: a few hundred real records of chat, code and NLP-task data, plus
a small evaluation set (see ``data/sample/README.md`` and ``data/eval_sample/README.md`` for
sources and licences)."""

from __future__ import annotations

from pathlib import Path

from instructmine.io.ingest import SourceSpec

# file, source name, category (forced: the mixture stages group by these three categories)
SAMPLE_FILES = (
    ("alpaca.json", "alpaca", "chat"),
    ("dolly.json", "dolly", "chat"),
    ("codealpaca.json", "codealpaca", "code"),
    ("p3.jsonl", "p3", "nlp"),
)
EVAL_FILE = "self_instruct_user_oriented/user_oriented_instructions.jsonl"


def sample_data_dir() -> Path:
    """Folder of the bundled sample (installed as package data)."""
    path = Path(__file__).resolve().parents[1] / "data" / "sample"
    if not (path / SAMPLE_FILES[0][0]).is_file():
        raise FileNotFoundError(f"bundled sample missing at {path}: reinstall instructmine")
    return path


def sample_sources() -> list[SourceSpec]:
    """Training-pool sources of the sample, tagged with source names and categories.

    Ingest them with ``force_category=True`` so Dolly's own task labels (``open_qa``...) do
    not replace the ``chat`` category.
    """
    root = sample_data_dir()
    return [SourceSpec(path=str(root / f), name=n, category=c) for f, n, c in SAMPLE_FILES]


def sample_eval_dir() -> Path:
    """The bundled evaluation sample, laid out like ``../shared/data`` (``--data-dir``)."""
    return sample_data_dir().parent / "eval_sample"


def sample_eval_path() -> Path:
    """The sample's self-instruct evaluation set: 40 user-oriented instructions with
    expert-written reference outputs (``self_instruct`` format). The same file is the eval
    sample's ``self_instruct`` set, so ``train --eval-data`` on it ingested and
    ``eval --suite loss --data-dir`` on the eval sample score the same conversations."""
    return sample_eval_dir() / EVAL_FILE
