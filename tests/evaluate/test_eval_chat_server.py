"""Chat suite against a REAL OpenAI-compatible server: llama.cpp serving SmolLM2's GGUF."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request

import pytest

from instructmine.evaluate.judge import Grader, JudgeConfig, JudgmentCache, make_judge
from server_process import free_port, stop, wait_for_port
from shared_paths import shared_data_or_skip

pytest.importorskip("llama_cpp", reason="needs llama-cpp-python[server] (dev extra)")


def _models_listed(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def judge_server(tmp_path_factory):
    """``python -m llama_cpp.server`` on loopback; yields its base URL."""
    from instructmine.models import ModelNotFoundError, gguf_file

    try:
        gguf = gguf_file("smollm2-135m-instruct")
    except ModelNotFoundError as err:
        pytest.skip(str(err))
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "llama_cpp.server",
                "--model",
                str(gguf),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                "2048",
                "--n_threads",
                "2",
            ],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_for_port(
            port,
            proc,
            log,
            name="llama.cpp server",
            timeout=90,
            ready=lambda: _models_listed(url),
            interval=0.3,
        )
        yield url
    finally:
        stop(proc)


def test_grades_and_pairwise_through_the_server_with_cache(judge_server, tmp_path):
    cfg = JudgeConfig(
        kind="openai",
        base_url=judge_server,
        model="smollm2",
        prompt_style="terse",
        max_tokens=12,
        max_retries=2,
        backoff=0.1,
    )
    cache = tmp_path / "judgments.sqlite"
    grader = Grader(make_judge(cfg), cfg, JudgmentCache(cache))
    first = grader.rate("What is the capital of France?", "Paris is the capital of France.")
    win = grader.compare("Name a fruit.", "An apple.", "A rock.")
    c = grader.counts
    assert c.requests >= 3  # one grade + two verdicts (position swap), plus any retries
    assert first is None or 1 <= first <= 10
    assert win is None or win in (0.0, 0.5, 1.0)
    # a failed grade is one failed judgment; a failed comparison is one or two
    assert (first is None) + (win is None) <= c.failed_items <= (first is None) + 2 * (win is None)
    assert grader.describe()["base_url"] == judge_server
    if first is not None:
        # a second run with the same cache asks the server nothing for that grade
        again = Grader(make_judge(cfg), cfg, JudgmentCache(cache))
        assert (
            again.rate("What is the capital of France?", "Paris is the capital of France.") == first
        )
        assert again.counts.requests == 0 and again.counts.cache_hits == 1


def test_eval_cli_chat_suite_writes_judge_provenance(judge_server, tiny_llama_dir, tmp_path):
    from typer.testing import CliRunner

    from instructmine.cli import app

    shared_data_or_skip()
    out = tmp_path / "results.json"
    settings = tmp_path / "eval.yaml"
    settings.write_text("chat_max_new_tokens: 24\njudge:\n  max_tokens: 12\n  max_retries: 1\n")
    result = CliRunner().invoke(
        app,
        [
            "eval",
            str(tiny_llama_dir),
            "--suite",
            "chat",
            "--limit",
            "2",
            "--pairwise-sets",
            "alpaca_eval",
            "--chat-sets",
            "mt_bench",
            "--judge-url",
            judge_server,
            "--judge-model",
            "smollm2",
            "--judge-prompt",
            "terse",
            "--judge-cache",
            str(tmp_path / "j.sqlite"),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    prov = doc["provenance"]["chat"]
    assert prov["judge"]["kind"] == "openai" and prov["judge"]["base_url"] == judge_server
    counts = prov["judge_counts"]
    graded = doc["results"]["chat"]["mt_bench/graded"]
    wins = doc["results"]["chat"]["alpaca_eval/win_rate"]
    assert graded["n_items"] == 2 and wins["n_items"] == 2
    assert graded["n_rated"] + graded["n_unrated"] == 2
    # every item cost at least one request per judgment (2 grades + 2x2 swapped verdicts)
    assert counts["requests"] >= 6
    low = graded["n_unrated"] + wins["n_unjudged"]
    assert low <= counts["failed_items"] <= graded["n_unrated"] + 2 * wins["n_unjudged"]
    assert doc["target"]["name"] == str(tiny_llama_dir)
