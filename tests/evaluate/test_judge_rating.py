"""``judge_rating`` through a REAL llama.cpp server (SmolLM2's GGUF) and against a dead judge."""

from __future__ import annotations

import numpy as np
import pytest
from test_eval_chat_server import judge_server  # noqa: F401  (the loopback llama.cpp server)

from instructmine.evaluate.judge import JudgeUnavailableError
from instructmine.indicators.base import Example
from instructmine.indicators.registry import create
from server_process import free_port

pytest.importorskip("llama_cpp", reason="needs llama-cpp-python[server] (dev extra)")

EXAMPLES = [
    Example("a", [], [{"role": "user", "content": "What is 2 + 2?"}], "2 + 2 = 4."),
    Example("b", [], [{"role": "user", "content": "Name a colour."}], "Blue."),
]

RUBRIC = (
    "You grade answers. Reply with a single digit from 0 to 5 and nothing else.\n=====\n"
    "Question: {instruction}\nAnswer: {response}\nGrade (0-5):"
)


def test_ratings_through_the_server_are_cached(judge_server, tmp_path):  # noqa: F811
    rubric = tmp_path / "rubric.txt"
    rubric.write_text(RUBRIC)
    params = dict(
        base_url=judge_server,
        judge_model="smollm2",
        rubric=str(rubric),
        max_tokens=4,
        max_retries=3,
        backoff=0.05,
        cache=str(tmp_path / "j.sqlite"),
        concurrency=2,
    )
    ind = create("judge_rating", **params)
    ind.setup()
    try:
        first = ind.score(EXAMPLES)["judge_rating"]
    except RuntimeError as err:  # a 135M judge may fail to give a digit: counted, never averaged
        assert "records got no rating" in str(err)
        assert ind.grader.counts.malformed > 0
        return
    assert first.shape == (2,) and ((first >= 0) & (first <= 5)).all()
    sent = ind.grader.counts.requests
    again = create("judge_rating", **params)
    again.setup()
    second = again.score(EXAMPLES)["judge_rating"]
    np.testing.assert_array_equal(first, second)
    assert again.grader.counts.requests == 0 and again.grader.counts.cache_hits == 2
    assert sent >= 2
    prov = ind.provenance()
    assert prov["judge"]["model"] == "smollm2" and prov["judge"]["scale"] == [0, 5]


def test_a_dead_judge_stops_with_a_count_not_a_partial_mean(tmp_path):
    port = free_port()  # nothing listens here
    ind = create(
        "judge_rating",
        base_url=f"http://127.0.0.1:{port}/v1",
        judge_model="x",
        max_retries=1,
        backoff=0.0,
        timeout=2,
        cache=str(tmp_path / "j.sqlite"),
        concurrency=1,
        max_consecutive_failures=2,
    )
    ind.setup()
    many = EXAMPLES * 5
    with pytest.raises(JudgeUnavailableError, match="2 items in a row"):
        ind.score(many)
    # 2 items x (1 try + 1 retry), plus at most the one item already in flight; the other 7
    # of the 10 records are never sent
    assert 4 <= ind.grader.counts.transport_errors <= 6


def test_judge_rating_needs_a_judge_and_a_response_placeholder(tmp_path):
    with pytest.raises(ValueError, match="base_url"):
        create("judge_rating").setup()
    bad = tmp_path / "r.txt"
    bad.write_text("rate {instruction}")
    ind = create("judge_rating", base_url="http://127.0.0.1:9/v1", rubric=str(bad))
    with pytest.raises(ValueError, match="response"):
        ind.setup()
