"""Pluggable LLM judges with a judgment cache, robust parsing, retries and failure counts.

A *judge* turns chat messages into a reply: :class:`OpenAIJudge` talks to any
OpenAI-compatible endpoint (vLLM, llama.cpp's server, a hosted API; key read from an
environment variable), :class:`LocalJudge` runs a transformers chat model in-process.
:class:`Grader` wraps a judge with the prompts (MT-Bench single-answer 1-10, pairwise with
position swap, FLASK per-skill 1-5), a SQLite cache keyed by (judge, prompt messages),
retries with exponential backoff on transport errors and malformed replies, and counters.

Only *transport* errors (the judge's own ``transport_errors``: connection, timeout, rate limit,
server errors of an HTTP judge; none for an in-process judge) are retried and counted; any other
exception is a bug and propagates. After ``max_consecutive_failures`` items in a row lost to
transport errors the grader raises :class:`JudgeUnavailableError` instead of averaging over
whatever part of the set happened to be judged.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from instructmine.evaluate import judge_prompts as P

Messages = list[dict[str, str]]


class JudgeConfig(BaseModel):
    """Which judge to use. ``kind='openai'`` needs ``base_url`` and ``model``."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field("openai", pattern="^(openai|local)$")
    model: str = "smollm2-135m-instruct"
    base_url: str | None = None
    api_key_env: str | None = Field(None, description="name of the env var holding the API key")
    max_tokens: int = Field(512, gt=0)
    timeout: float = Field(120.0, gt=0)
    prompt_style: str = Field("mt-bench", pattern="^(mt-bench|terse)$")
    max_retries: int = Field(3, ge=0)
    backoff: float = Field(0.5, ge=0, description="first retry wait (s), doubled each retry")
    retry_temperature: float = Field(0.7, ge=0)
    max_consecutive_failures: int = Field(
        3, ge=1, description="items in a row lost to transport errors before the run stops"
    )


class JudgeUnavailableError(RuntimeError):
    """The judge failed on several items in a row for transport reasons; the run stops."""


class Judge(Protocol):
    """Anything that answers chat messages."""

    #: Exceptions that mean "the judge could not be reached", retried and counted; any other
    #: exception propagates.
    transport_errors: tuple[type[BaseException], ...]

    def describe(self) -> dict: ...

    def complete(self, messages: Messages, temperature: float) -> str: ...


class OpenAIJudge:
    """A judge behind an OpenAI-compatible ``/v1/chat/completions`` endpoint."""

    def __init__(self, config: JudgeConfig):
        import openai

        if not config.base_url:
            raise ValueError("an OpenAI-compatible judge needs base_url (e.g. http://host:8000/v1)")
        key = "not-needed"
        if config.api_key_env:
            key = os.environ.get(config.api_key_env) or ""
            if not key:
                raise ValueError(
                    f"judge API key variable ${config.api_key_env} is empty or unset; export it"
                )
        self.config = config
        self.client = openai.OpenAI(
            base_url=config.base_url, api_key=key, timeout=config.timeout, max_retries=0
        )
        self.transport_errors = (
            openai.APIConnectionError,  # includes APITimeoutError
            openai.RateLimitError,
            openai.InternalServerError,
            ConnectionError,
            TimeoutError,
        )

    def describe(self) -> dict:
        return {"kind": "openai", "model": self.config.model, "base_url": self.config.base_url}

    def complete(self, messages: Messages, temperature: float) -> str:
        reply = self.client.chat.completions.create(
            model=self.config.model,
            messages=messages,
            temperature=temperature,
            max_tokens=self.config.max_tokens,
        )
        return reply.choices[0].message.content or ""


class LocalJudge:
    """A transformers chat model used as judge, in-process (greedy at temperature 0)."""

    transport_errors: tuple[type[BaseException], ...] = ()  # in-process: every error is a bug

    def __init__(self, config: JudgeConfig, model: Any = None, tokenizer: Any = None):
        from instructmine.models import describe, load_causal_lm

        self.config = config
        if model is None:
            model, tokenizer = load_causal_lm(config.model)
        self.model, self.tokenizer = model, tokenizer
        self._desc = describe(config.model)
        self._lock = threading.Lock()

    def describe(self) -> dict:
        return {"kind": "local", "model": self._desc}

    def complete(self, messages: Messages, temperature: float) -> str:
        from instructmine.evaluate.generate import GenerationConfig, generate
        from instructmine.prompting import render_prompt

        text = render_prompt(self.tokenizer, messages)
        cfg = GenerationConfig(
            max_new_tokens=self.config.max_tokens,
            batch_size=1,
            temperature=temperature,
            seed=int(time.time_ns() % 1_000_000) if temperature > 0 else 0,
        )
        with self._lock:
            return generate(self.model, self.tokenizer, [text], cfg)[0]


def make_judge(config: JudgeConfig) -> Judge:
    """Build the judge a config names."""
    return OpenAIJudge(config) if config.kind == "openai" else LocalJudge(config)


# --- parsing ---------------------------------------------------------------------------------

_RATING_PATTERNS = (
    r"\[\[\s*(\d+(?:\.\d+)?)\s*\]\]",
    r"\[\s*(\d+(?:\.\d+)?)\s*\]",
    r"[Rr]ating\s*[:=]?\s*\**\s*(\d+(?:\.\d+)?)",
    r"[Ss]core\s*(?:of|[:=])?\s*\**\s*(\d+(?:\.\d+)?)",
    r"(\d+(?:\.\d+)?)\s*/\s*10\b",
    r"(\d+(?:\.\d+)?)\s+out of\s+10\b",
)


def parse_rating(text: str, low: float = 1, high: float = 10) -> float | None:
    """The rating in a judge reply, or None: ``[[7]]``, ``Rating: 7``, ``7/10``, or a bare number.

    The last match of the most specific pattern wins (judges explain first, then rate).
    """
    for pattern in _RATING_PATTERNS:
        found = [float(m) for m in re.findall(pattern, text)]
        found = [v for v in found if low <= v <= high]
        if found:
            return found[-1]
    bare = text.strip().rstrip(".")
    if re.fullmatch(r"\d+(?:\.\d+)?", bare) and low <= float(bare) <= high:
        return float(bare)
    return None


def parse_verdict(text: str) -> str | None:
    """``"A"``, ``"B"``, ``"tie"`` or None from a pairwise reply (``[[A]]``/``[[B]]``/``[[C]]``)."""
    found = re.findall(r"\[\[\s*([ABC])\s*\]\]", text)
    if not found:
        who = r"(?:[Aa]ssistant|[Aa]nswer|[Oo]utput)\s*\(?([AB])\)?"
        found = re.findall(rf"\b{who}\s+is better", text) or re.findall(
            rf"\bbetter (?:one |answer )?is:?\s*{who}", text
        )
    if not found:
        bare = text.strip().strip(".[]()").upper()
        found = [bare] if bare in ("A", "B", "C") else []
    if not found:
        return None
    return {"A": "A", "B": "B", "C": "tie"}[found[-1]]


def parse_skill_scores(text: str, skills: list[str]) -> dict[str, float] | None:
    """FLASK scores ``{skill: 1-5}`` from a reply: its last Python dict, else ``Skill: N`` lines."""
    for blob in reversed(re.findall(r"\{[^{}]*\}", text)):
        try:
            data = ast.literal_eval(blob)
        except (ValueError, SyntaxError):
            continue
        if isinstance(data, dict):
            low = {str(k).strip().lower(): v for k, v in data.items()}
            got = {s: low.get(s.lower()) for s in skills}
            if all(isinstance(v, (int, float)) and 1 <= v <= 5 for v in got.values()):
                return {k: float(v) for k, v in got.items()}
    got = {}
    for s in skills:
        m = re.findall(re.escape(s) + r"\W{0,5}(?:score\W{0,3})?([1-5](?:\.\d)?)\b", text, re.I)
        if m:
            got[s] = float(m[-1])
    return got if len(got) == len(skills) else None


# --- cache -----------------------------------------------------------------------------------


class JudgmentCache:
    """SQLite store of judge replies keyed by (judge, request messages); safe across threads."""

    def __init__(self, path: str | os.PathLike[str] | None):
        self.path = Path(path) if path else None
        self._lock = threading.Lock()
        self._db = None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS j (key TEXT PRIMARY KEY, reply TEXT)")
            self._db.commit()

    @staticmethod
    def key(judge: dict, messages: Messages) -> str:
        blob = json.dumps([judge, messages], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> str | None:
        if self._db is None:
            return None
        with self._lock:
            row = self._db.execute("SELECT reply FROM j WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def put(self, key: str, reply: str) -> None:
        if self._db is None:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO j VALUES (?, ?)", (key, reply))
            self._db.commit()


# --- grader ----------------------------------------------------------------------------------


@dataclass
class Counts:
    """What happened while judging."""

    requests: int = 0  # calls sent to the judge (retries included)
    cache_hits: int = 0
    malformed: int = 0  # replies that could not be parsed
    transport_errors: int = 0  # HTTP/connection errors
    failed_items: int = 0  # items left without a judgment after all retries
    consecutive_transport_failures: int = 0  # items in a row lost to transport errors
    examples_malformed: list[str] = field(default_factory=list)


class Grader:
    """Prompts + judge + cache + retries. One instance per evaluation run."""

    def __init__(self, judge: Judge, config: JudgeConfig, cache: JudgmentCache | None = None):
        self.judge, self.config = judge, config
        self.cache = cache or JudgmentCache(None)
        self.counts = Counts()
        self._lock = threading.Lock()

    def describe(self) -> dict:
        """Judge provenance for reports."""
        return {
            **self.judge.describe(),
            "prompt_style": self.config.prompt_style,
            "max_retries": self.config.max_retries,
            "cache": str(self.cache.path) if self.cache.path else None,
        }

    def ask(self, messages: Messages, parse: Any, retry_note: str) -> Any:
        """Send ``messages`` (cache first), parse the reply, retry; None when no usable reply.

        Raises :class:`JudgeUnavailableError` once too many items in a row were lost to
        transport errors. Used by the evaluation prompts below and by ``judge_rating``.
        """
        return self._ask(messages, parse, retry_note)

    def _ask(self, messages: Messages, parse: Any, retry_note: str) -> Any:
        judge_id = self.judge.describe()
        key = JudgmentCache.key(judge_id, messages)
        cached = self.cache.get(key)
        if cached is not None:
            parsed = parse(cached)
            if parsed is not None:
                with self._lock:
                    self.counts.cache_hits += 1
                return parsed
        convo = list(messages)
        last_error: BaseException | None = None
        for attempt in range(self.config.max_retries + 1):
            if attempt:
                time.sleep(self.config.backoff * 2 ** (attempt - 1))
            temperature = 0.0 if attempt == 0 else self.config.retry_temperature
            with self._lock:
                self.counts.requests += 1
            try:
                reply = self.judge.complete(convo, temperature)
            except self.judge.transport_errors as err:  # retried, then counted
                with self._lock:
                    self.counts.transport_errors += 1
                last_error = err
                continue
            last_error = None
            with self._lock:
                self.counts.consecutive_transport_failures = 0
            parsed = parse(reply)
            if parsed is not None:
                self.cache.put(key, reply)
                return parsed
            with self._lock:
                self.counts.malformed += 1
                if len(self.counts.examples_malformed) < 5:
                    self.counts.examples_malformed.append(reply[:200])
            convo = [
                *messages,
                {"role": "assistant", "content": reply},
                {"role": "user", "content": retry_note},
            ]
        with self._lock:
            self.counts.failed_items += 1
            if last_error is not None:
                self.counts.consecutive_transport_failures += 1
            stop = (
                self.counts.consecutive_transport_failures >= self.config.max_consecutive_failures
            )
        if stop:
            raise JudgeUnavailableError(
                f"judge unreachable: {self.judge.describe()} failed on "
                f"{self.counts.consecutive_transport_failures} items in a row ({last_error}); "
                "stopped instead of averaging over part of the set. Check the judge server and "
                "re-run: finished suites and cached judgments are kept"
            )
        return None

    def rate(self, question: str, answer: str, reference: str | None = None) -> float | None:
        """MT-Bench single-answer grade 1-10 (None when the judge never gave a usable one)."""
        if self.config.prompt_style == "terse":
            messages = [{"role": "system", "content": P.SINGLE_TERSE_SYSTEM}]
            for q, a, verdict in P.SINGLE_TERSE_SHOTS:
                messages += [
                    {"role": "user", "content": P.SINGLE_TERSE.format(question=q, answer=a)},
                    {"role": "assistant", "content": verdict},
                ]
            body = P.SINGLE_TERSE.format(question=question, answer=answer)
            messages.append({"role": "user", "content": body})
        else:
            tpl = P.SINGLE_REF if reference else P.SINGLE
            body = tpl.format(question=question, answer=answer, reference=reference)
            messages = [
                {"role": "system", "content": P.SINGLE_SYSTEM},
                {"role": "user", "content": body},
            ]
        return self._ask(messages, parse_rating, P.RETRY_RATING)

    def verdict(self, question: str, answer_a: str, answer_b: str) -> str | None:
        """One pairwise verdict: ``"A"``, ``"B"``, ``"tie"`` or None."""
        if self.config.prompt_style == "terse":
            messages = [{"role": "system", "content": P.PAIR_TERSE_SYSTEM}]
            for q, a, b, verdict in P.PAIR_TERSE_SHOTS:
                body = P.PAIR_TERSE.format(question=q, answer_a=a, answer_b=b)
                messages += [
                    {"role": "user", "content": body},
                    {"role": "assistant", "content": verdict},
                ]
            body = P.PAIR_TERSE.format(question=question, answer_a=answer_a, answer_b=answer_b)
        else:
            messages = [{"role": "system", "content": P.PAIR_SYSTEM}]
            body = P.PAIR.format(question=question, answer_a=answer_a, answer_b=answer_b)
        messages.append({"role": "user", "content": body})
        return self._ask(messages, parse_verdict, P.RETRY_PAIR)

    def compare(self, question: str, answer: str, reference: str) -> float | None:
        """Win score of ``answer`` against ``reference``, judged in both orders.

        1 = wins in both orders, 0 = loses in both, 0.5 = tie or inconsistent (position bias
        cancels out); None when either verdict is missing.
        """
        first = self.verdict(question, answer, reference)  # answer is A
        second = self.verdict(question, reference, answer)  # answer is B
        if first is None or second is None:
            return None
        score = {"A": 1.0, "tie": 0.5, "B": 0.0}
        return (score[first] + (1.0 - score[second])) / 2

    def flask(
        self,
        question: str,
        answer: str,
        reference: str | None,
        skills: list[str],
        rubrics: dict[str, dict],
    ) -> dict[str, float] | None:
        """FLASK per-skill scores 1-5 for the item's skills."""
        body = P.FLASK.format(
            skills=P.flask_skills_text(skills, rubrics),
            question=question,
            reference=reference or "(none)",
            answer=answer,
        )
        messages = [
            {"role": "system", "content": P.FLASK_SYSTEM},
            {"role": "user", "content": body},
        ]
        return self._ask(messages, lambda t: parse_skill_scores(t, skills), P.RETRY_FLASK)
