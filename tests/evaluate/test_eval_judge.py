"""Judge plumbing: reply parsing, retries with backoff, failure counts, cache, eval sets."""

from __future__ import annotations

import pytest

from instructmine.evaluate.eval_sets import load_eval_set, skill_rubrics
from instructmine.evaluate.judge import (
    Grader,
    JudgeConfig,
    JudgmentCache,
    LocalJudge,
    parse_rating,
    parse_skill_scores,
    parse_verdict,
)
from shared_paths import shared_data_or_skip


class ScriptedJudge:
    """A judge that replies from a script (a real Judge implementation, no network)."""

    transport_errors = (ConnectionError,)

    def __init__(self, replies):
        self.replies = list(replies)
        self.seen = []

    def describe(self):
        return {"kind": "scripted", "model": "script"}

    def complete(self, messages, temperature):
        self.seen.append((messages, temperature))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is fine. Rating: [[7]]", 7.0),
        ("Rating: [[11]] oops, I mean [[8]]", 8.0),
        ("I'd give it Rating: 6", 6.0),
        ("Score: 4.5", 4.5),
        ("8/10, solid", 8.0),
        ("9", 9.0),
        ("Excellent answer!", None),
        ("[[0]]", None),
    ],
)
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


def test_parse_verdict_and_skills():
    assert parse_verdict("A is longer but ... [[B]]") == "B"
    assert parse_verdict("[[C]]") == "tie"
    assert parse_verdict("Assistant A is better.") == "A"
    assert parse_verdict("The answer that is better is Answer B:\nAnswer A:") == "B"
    assert parse_verdict("both fine") is None
    skills = ["Readability", "Logical Correctness"]
    reply = "Feedback ... {'Readability': 4, 'Logical Correctness': 2}"
    assert parse_skill_scores(reply, skills) == {"Readability": 4.0, "Logical Correctness": 2.0}
    assert parse_skill_scores("Readability: 5\nLogical Correctness: 3", skills) == {
        "Readability": 5.0,
        "Logical Correctness": 3.0,
    }
    assert parse_skill_scores("{'Readability': 9}", skills) is None


def test_malformed_replies_are_retried_then_counted(tmp_path):
    cfg = JudgeConfig(kind="openai", max_retries=2, backoff=0.0)
    judge = ScriptedJudge(["no idea", "still no", "Rating: [[6]]", "x", "y", "z"])
    grader = Grader(judge, cfg, JudgmentCache(tmp_path / "j.sqlite"))
    assert grader.rate("q1", "a1") == 6.0
    assert [t for _, t in judge.seen] == [0.0, 0.7, 0.7]  # retries sample
    assert judge.seen[1][0][-1]["content"].startswith("Your reply did not contain a rating")
    assert grader.rate("q2", "a2") is None
    c = grader.counts
    assert (c.requests, c.malformed, c.failed_items) == (6, 5, 1)
    # the cache answers a repeated question without asking the judge again
    again = Grader(ScriptedJudge([]), cfg, JudgmentCache(tmp_path / "j.sqlite"))
    assert again.rate("q1", "a1") == 6.0
    assert again.counts.cache_hits == 1 and again.counts.requests == 0


def test_position_swap_cancels_order_bias():
    # a judge that always prefers the first answer: the swap turns that into a tie
    biased = Grader(ScriptedJudge(["[[A]]", "[[A]]"]), JudgeConfig(backoff=0.0))
    assert biased.compare("q", "mine", "reference") == 0.5
    consistent = Grader(ScriptedJudge(["[[A]]", "[[B]]"]), JudgeConfig(backoff=0.0))
    assert consistent.compare("q", "mine", "reference") == 1.0
    loses = Grader(ScriptedJudge(["[[B]]", "[[A]]"]), JudgeConfig(backoff=0.0))
    assert loses.compare("q", "mine", "reference") == 0.0


def test_unreachable_judge_fails_loudly():
    cfg = JudgeConfig(
        kind="openai",
        base_url="http://127.0.0.1:9/v1",
        max_retries=1,
        backoff=0.0,
        timeout=5,
        max_consecutive_failures=2,
    )
    from instructmine.evaluate.judge import JudgeUnavailableError, make_judge

    grader = Grader(make_judge(cfg), cfg)
    assert grader.rate("q1", "a") is None  # one item lost: counted, the run goes on
    with pytest.raises(JudgeUnavailableError, match="judge unreachable.*2 items in a row"):
        grader.rate("q2", "a")
    assert grader.counts.transport_errors == 4 and grader.counts.failed_items == 2


def test_a_programming_error_in_the_judge_propagates():
    """Only transport errors are retried and counted; a bug surfaces at once."""
    grader = Grader(ScriptedJudge([TypeError("bug in the client code")]), JudgeConfig(backoff=0))
    with pytest.raises(TypeError, match="bug in the client code"):
        grader.rate("q", "a")
    assert grader.counts.transport_errors == 0 and grader.counts.failed_items == 0


def test_a_judge_dying_mid_run_stops_the_set_instead_of_a_partial_mean():
    from instructmine.evaluate.chat import grade_single
    from instructmine.evaluate.eval_sets import EvalItem
    from instructmine.evaluate.judge import JudgeUnavailableError

    down = [ConnectionError("refused")] * 20
    judge = ScriptedJudge(["Rating: [[7]]", "Rating: [[5]]", *down])
    cfg = JudgeConfig(max_retries=1, backoff=0.0, max_consecutive_failures=3)
    items = [EvalItem(f"i{k}", f"question {k}") for k in range(8)]
    with pytest.raises(JudgeUnavailableError, match="3 items in a row"):
        grade_single(Grader(judge, cfg), items, ["answer"] * 8, parallel=1)
    # a transient failure between answers does not stop the run, and the mean says its coverage
    flaky = ScriptedJudge(["Rating: [[8]]", ConnectionError("blip"), ConnectionError("blip")])
    flaky.replies += ["Rating: [[4]]"]
    out = grade_single(Grader(flaky, cfg), items[:3], ["a"] * 3, parallel=1)
    assert (out["score"], out["n_rated"], out["n_items"]) == (6.0, 2, 3)
    assert out["coverage"] == pytest.approx(2 / 3)


def test_missing_api_key_variable_is_an_error(monkeypatch):
    from instructmine.evaluate.judge import OpenAIJudge

    monkeypatch.delenv("IM_TEST_JUDGE_KEY", raising=False)
    with pytest.raises(ValueError, match=r"\$IM_TEST_JUDGE_KEY"):
        OpenAIJudge(JudgeConfig(base_url="http://127.0.0.1:9/v1", api_key_env="IM_TEST_JUDGE_KEY"))


def test_local_transformers_judge_runs_and_counts_failures(tiny_llama_dir):
    from instructmine.models import load_causal_lm

    model, tok = load_causal_lm(tiny_llama_dir)
    cfg = JudgeConfig(
        kind="local",
        model=str(tiny_llama_dir),
        max_tokens=6,
        max_retries=1,
        backoff=0.0,
        prompt_style="terse",
    )
    grader = Grader(LocalJudge(cfg, model, tok), cfg)
    score = grader.rate("What is 2+2?", "4")
    c = grader.counts
    assert c.requests == (1 if score is not None else 2)
    assert c.failed_items == (0 if score is not None else 1)
    assert grader.describe()["kind"] == "local"


def test_eval_sets_from_shared_data(tmp_path):
    from instructmine.io import ingest, read_pool

    root = shared_data_or_skip()
    mt = load_eval_set("mt_bench", root)
    referenced = [it for it in mt if it.reference is not None]
    assert len(mt) == 80 and len(referenced) >= 30
    assert {"math", "reasoning", "coding"} <= {it.category for it in referenced}
    # one reader: the eval set's reference conversations are exactly what ingest keeps
    ingest(
        [root / "mt_bench" / "question.jsonl"],
        tmp_path / "mt.parquet",
        references=root / "mt_bench" / "reference_answer_gpt-4.jsonl",
    )
    pooled = [r["messages"] for r in read_pool(tmp_path / "mt.parquet").to_pylist()]
    assert [it.conversation() for it in referenced] == pooled
    si = load_eval_set("self_instruct", root)
    assert len(si) == 252 and all(it.reference for it in si)
    assert len(load_eval_set("alpaca_eval", root)) == 805
    fl = load_eval_set("flask", root, limit=5)
    rubrics = skill_rubrics(root)
    assert len(fl) == 5 and all(len(it.skills) == 3 and set(it.skills) <= set(rubrics) for it in fl)


class RuleJudge:
    """Answers by request type: a fixed grade, a dict of FLASK scores, always "A"."""

    def __init__(self, skills):
        self.skills = skills

    def describe(self):
        return {"kind": "rule", "model": "rule"}

    def complete(self, messages, temperature):
        text = messages[-1]["content"]
        if "Python dictionary" in text:
            return "Good. " + str({s: 3 for s in self.skills})
        if "[[A]]" in messages[0]["content"]:
            return "[[A]]"
        return "Fine. Rating: [[7]]"


def test_run_chat_aggregates_every_kind_of_judgment(tiny_llama_dir):
    from instructmine.evaluate.chat import run_chat
    from instructmine.evaluate.generate import GenerationConfig
    from instructmine.models import load_causal_lm

    root = shared_data_or_skip()
    model, tok = load_causal_lm(tiny_llama_dir)
    grader = Grader(RuleJudge(list(skill_rubrics(root))), JudgeConfig(backoff=0.0))
    ticks = []

    def progress(label, total):
        ticks.append([label, total, 0])
        return lambda n=1: ticks[-1].__setitem__(2, ticks[-1][2] + n)

    res = run_chat(
        model,
        tok,
        grader,
        root,
        graded=["mt_bench", "flask"],
        pairwise=["alpaca_eval"],
        limit=2,
        generation=GenerationConfig(max_new_tokens=4, batch_size=2),
        progress=progress,
    )
    assert res["mt_bench/graded"]["score"] == 7.0 and res["mt_bench/graded"]["n_rated"] == 2
    flask = res["flask/graded"]
    assert flask["n_rated"] == 2 and set(flask["per_skill"].values()) == {3.0}
    wins = res["alpaca_eval/win_rate"]
    assert wins["win_rate"] == 0.5 and wins["ties_or_inconsistent"] == 2  # "A" both ways
    assert grader.counts.requests == 2 + 2 + 2 * 2
    assert all(done == total for _, total, done in ticks)
