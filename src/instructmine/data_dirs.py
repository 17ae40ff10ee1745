"""Where the shared data sets live: the one resolver for ``../shared/data`` and its benchmarks.

Evaluation sets (self-instruct, MT-Bench, AlpacaEval, FLASK, Vicuna) and benchmark files are
looked up in a folder laid out like the project's ``../shared/data``. The order is: an explicit
path (a command-line option), then an environment variable, then ``../shared/data`` relative to
the working directory, then relative to the source checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "INSTRUCTMINE_DATA"
BENCHMARKS_ENV = "INSTRUCTMINE_BENCHMARKS"
LAYOUT = (
    "mt_bench/, self_instruct_user_oriented/, alpaca_eval/, benchmarks/ (arc_easy/, piqa/, "
    "boolq/, flask/, ...)"
)


def _explicit(path: str | os.PathLike[str], option: str) -> Path:
    p = Path(path).expanduser()
    if not p.is_dir():
        raise FileNotFoundError(f"data folder {p} does not exist ({option})")
    return p


def _candidates() -> list[Path]:
    tried = [Path(os.environ[DATA_ENV]).expanduser()] if os.environ.get(DATA_ENV) else []
    tried.append(Path.cwd() / ".." / "shared" / "data")
    tried.append(Path(__file__).resolve().parents[2] / ".." / "shared" / "data")
    return tried


def shared_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``explicit`` > ``$INSTRUCTMINE_DATA`` > ``../shared/data``.

    Raises ``FileNotFoundError`` naming every place tried and the layout expected.
    """
    if explicit is not None:
        return _explicit(explicit, "--data-dir")
    tried = _candidates()
    for path in tried:
        if path.is_dir():
            return path.resolve()
    raise FileNotFoundError(
        f"no data folder found; pass --data-dir or set ${DATA_ENV} to a folder laid out like "
        f"../shared/data ({LAYOUT}). Tried: {', '.join(map(str, tried))}"
    )


def benchmarks_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The benchmarks folder: ``explicit`` > ``$INSTRUCTMINE_BENCHMARKS`` > the data folder's
    ``benchmarks/``."""
    if explicit is not None:
        return _explicit(explicit, "--benchmarks-dir")
    if os.environ.get(BENCHMARKS_ENV):
        return _explicit(os.environ[BENCHMARKS_ENV], f"${BENCHMARKS_ENV}")
    try:
        root = shared_data_dir()
    except FileNotFoundError as err:
        raise FileNotFoundError(
            f"no benchmarks folder found; pass --benchmarks-dir or set ${BENCHMARKS_ENV} "
            f"(arc_easy/ARC-Easy-Dev.jsonl, piqa/valid.jsonl, ...). {err}"
        ) from None
    path = root / "benchmarks"
    if not path.is_dir():
        raise FileNotFoundError(f"{root} has no benchmarks/ folder; pass --benchmarks-dir")
    return path
