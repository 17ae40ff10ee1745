"""Ctrl-C (a real SIGINT to a real subprocess) during ingest and score: one line saying what
was kept and what re-running does, exit status 130, no traceback, no partial output (issue
12, item 12). The signal is sent once the command has visibly started its work (a file it
makes appears), never after a sleep."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pyarrow.parquet as pq

from instructmine.io import ingest, pool_rows
from shared_paths import REPO, default_sigint


def _start(*args, cwd):
    return subprocess.Popen(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=dict(os.environ, PYTHONPATH=str(REPO / "src"), COLUMNS="200"),
        preexec_fn=default_sigint,
    )


def _interrupt_when(proc, appeared, limit=240.0):
    """SIGINT ``proc`` as soon as ``appeared()`` is true; the process must still be running."""
    deadline = time.monotonic() + limit
    while not appeared():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the command never started its work"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def test_ctrl_c_during_ingest_keeps_nothing_and_says_so(tmp_path):
    src = tmp_path / "big.jsonl"
    line = {"instruction": "Summarise the text. " * 20, "input": "", "output": "A summary. " * 30}
    with open(src, "w") as f:
        for i in range(150_000):
            f.write(json.dumps({**line, "output": f"{i} {line['output']}"}) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    proc = _start("ingest", src, "-o", out / "pool.parquet", cwd=tmp_path)
    code, stdout, stderr = _interrupt_when(proc, lambda: any(out.iterdir()))
    assert code == 130, stderr
    assert "Traceback" not in stderr
    (line_,) = stderr.strip().splitlines()
    assert line_.startswith("interrupted:") and "nothing was written" in line_
    assert "re-run the same command" in line_
    assert list(out.iterdir()) == []  # no pool, no temporary, no rejects file


def _wordy_pool(path, n):
    """``n`` distinct records of 80 words each: enough scoring work (seconds of ``mtld``) that
    the signal lands mid-run whatever the machine's load. The 30-record fixture scored in two
    chunks, so on a loaded machine the run could finish between the first chunk appearing and
    the signal (CI saw exit 130 from interpreter shutdown, with no message)."""
    import random

    rng = random.Random(0)
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "a",
        "lazy",
        "dog",
        "while",
        "seven",
        "wizards",
        "judge",
        "boxing",
    ]
    src = path.with_suffix(".jsonl")
    with open(src, "w") as f:
        for i in range(n):
            out = " ".join(rng.choice(words) for _ in range(80))
            f.write(json.dumps({"instruction": f"Write text {i}.", "input": "", "output": out}))
            f.write("\n")
    ingest([src], path)


def test_ctrl_c_during_score_keeps_finished_chunks_and_rerun_resumes(tmp_path):
    pool = tmp_path / "pool.parquet"
    _wordy_pool(pool, 20_000)
    scores = tmp_path / "s"
    args = ("score", pool, "-o", scores, "-i", "mtld", "--chunk-size", "64", "--window", "256")
    proc = _start(*args, cwd=tmp_path)
    code, stdout, stderr = _interrupt_when(
        proc, lambda: any((scores / "cache").glob("*/part-*.parquet"))
    )
    assert code == 130, stderr
    assert "Traceback" not in stderr
    (line_,) = stderr.strip().splitlines()
    assert line_.startswith("interrupted:") and "re-run the same command to resume" in line_
    kept = int(line_.split("interrupted: ")[1].split(" ")[0])
    assert kept == len(list((scores / "cache").glob("*/part-*.parquet"))) >= 1
    assert not (scores / "mtld.parquet").exists()
    again = _start(*args, "--json", cwd=tmp_path)
    stdout, stderr = again.communicate(timeout=300)
    assert again.returncode == 0, stderr
    assert json.loads(stdout)["n_records"] == pool_rows(pool)
    assert len(pq.read_table(scores / "mtld.parquet")) == pool_rows(pool)
