"""``judge_rating``: an LLM judge's rating of the response (AlpaGasus' prompt, or your rubric).

The judge is any OpenAI-compatible endpoint (vLLM, llama.cpp's server, a hosted API) reached
through the project's judge client (:mod:`instructmine.evaluate.judge`): replies are cached by
content in SQLite (a re-run only asks for what is missing), transport errors and unparsable
replies are retried, and requests run ``concurrency`` at a time.

The default rubric is AlpaGasus' (Chen et al. 2023): the judge rates the *accuracy* of the
response on a 0-5 scale, score on the first line. A rubric file replaces it: a system part,
a line ``=====``, then the user template with ``{instruction}``, ``{input}``, ``{response}``
(and ``{dimension}``).

Before each batch is sent, an estimate of its tokens and cost is printed. No partial mean:
when any record ends without a rating (after retries) the indicator raises with the count —
and after ``max_consecutive_failures`` records in a row lost to a dead judge it stops at once
— so no score file is written from part of a pool; cached ratings make the re-run cheap.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from instructmine.indicators.base import Example, Indicator, IndicatorParams
from instructmine.indicators.registry import register

DEFAULT_RUBRIC = Path(__file__).resolve().parent.parent / "data" / "rubrics" / "alpagasus.txt"
RETRY_NOTE = "Reply with only the score on the first line, a number from {low} to {high}."


class JudgeRatingParams(IndicatorParams):
    """Parameters of ``judge_rating``."""

    base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint, e.g. http://h:8000/v1"
    )
    judge_model: str = Field("gpt-4o-mini", description="model name sent to the endpoint")
    api_key_env: str | None = Field(None, description="env var holding the API key")
    rubric: str | None = Field(None, description="rubric file (default: AlpaGasus' prompt)")
    dimension: str = "accuracy"
    low: float = 0
    high: float = 5
    max_tokens: int = Field(64, gt=0)
    timeout: float = Field(120.0, gt=0)
    max_retries: int = Field(3, ge=0)
    backoff: float = Field(0.5, ge=0)
    max_consecutive_failures: int = Field(3, ge=1)
    concurrency: int = Field(4, ge=1)
    cache: str | None = Field(
        None, description="SQLite judgment cache (default: in the model cache)"
    )
    price_in: float = Field(0.0, ge=0, description="price per million input tokens (estimate)")
    price_out: float = Field(0.0, ge=0, description="price per million output tokens (estimate)")
    batch_size: int = Field(64, gt=0)


def read_rubric(path: str | Path | None) -> tuple[str, str]:
    """``(system, user template)`` of a rubric file (``=====`` separates them)."""
    path = Path(path) if path else DEFAULT_RUBRIC
    if not path.exists():
        raise FileNotFoundError(f"judge_rating: rubric file {path} does not exist")
    text = path.read_text()
    system, sep, user = text.partition("\n=====\n")
    if not sep:
        system, user = "", text
    if "{response}" not in user:
        raise ValueError(f"{path}: the rubric template needs a {{response}} placeholder")
    return system.strip(), user.strip()


@register
class JudgeRating(Indicator):
    """An LLM judge's rating of the response."""

    registry_name = "judge_rating"
    Params = JudgeRatingParams
    description = "LLM judge rating of the response (AlpaGasus prompt); needs base_url="
    runtime_params = frozenset(
        {"batch_size", "concurrency", "timeout", "backoff", "price_in", "price_out", "cache"}
    )

    @property
    def model_name(self) -> None:
        return None  # a remote judge, described in provenance()

    @property
    def note(self) -> str:
        return "" if self.params.base_url else "needs base_url=<OpenAI-compatible endpoint>"

    def provenance(self) -> dict[str, Any]:
        prov = super().provenance()
        p = self.params
        prov["judge"] = {
            "base_url": p.base_url,
            "model": p.judge_model,
            "rubric": str(p.rubric or DEFAULT_RUBRIC),
            "dimension": p.dimension,
            "scale": [p.low, p.high],
        }
        return prov

    def messages(self, e: Example) -> list[dict[str, str]]:
        """The judge request for one record (instruction = first user turn, input = the rest)."""
        user_turns = [m["content"] for m in e.prompt if m["role"] == "user"]
        instruction = user_turns[0] if user_turns else e.prompt_text
        rest = "\n\n".join(user_turns[1:])
        body = self._user.format(
            instruction=instruction,
            input=rest,
            response=e.response,
            dimension=self.params.dimension,
        )
        msgs = [{"role": "system", "content": self._system}] if self._system else []
        return [*msgs, {"role": "user", "content": body}]

    def load(self) -> None:
        from instructmine.evaluate.judge import Grader, JudgeConfig, JudgmentCache, make_judge
        from instructmine.models import cache_dir

        p = self.params
        if not p.base_url:
            raise ValueError(
                "indicator 'judge_rating' needs a judge: -p judge_rating.base_url=http://HOST/v1 "
                "-p judge_rating.judge_model=NAME (an OpenAI-compatible endpoint)"
            )
        self._system, self._user = read_rubric(p.rubric)
        cfg = JudgeConfig(
            kind="openai",
            model=p.judge_model,
            base_url=p.base_url,
            api_key_env=p.api_key_env,
            max_tokens=p.max_tokens,
            timeout=p.timeout,
            max_retries=p.max_retries,
            backoff=p.backoff,
            max_consecutive_failures=p.max_consecutive_failures,
        )
        cache = Path(p.cache) if p.cache else cache_dir() / "judge" / "judge_rating.sqlite"
        self.grader = Grader(make_judge(cfg), cfg, JudgmentCache(cache))

    def estimate(self, examples: Sequence[Example]) -> dict[str, float]:
        """Tokens (about 4 characters each) and cost of judging ``examples`` (cache ignored)."""
        chars = sum(sum(len(m["content"]) for m in self.messages(e)) for e in examples)
        tin, tout = chars / 4, self.params.max_tokens * len(examples)
        cost = tin / 1e6 * self.params.price_in + tout / 1e6 * self.params.price_out
        return {
            "records": len(examples),
            "input_tokens": int(tin),
            "output_tokens": int(tout),
            "cost": round(cost, 4),
        }

    def score(self, examples: Sequence[Example]) -> dict[str, np.ndarray]:
        from concurrent.futures import ThreadPoolExecutor

        from instructmine.evaluate.judge import parse_rating

        est = self.estimate(examples)
        print(
            f"judge_rating: {est['records']} records to {self.params.judge_model} at "
            f"{self.params.base_url}: ~{est['input_tokens']} input + ≤{est['output_tokens']} "
            f"output tokens, est. cost {est['cost']} (before cache hits)",
            file=sys.stderr,
            flush=True,
        )
        lo, hi = self.params.low, self.params.high
        note = RETRY_NOTE.format(low=lo, high=hi)

        def parse(text: str) -> float | None:
            first = text.strip().splitlines()[0] if text.strip() else ""
            return parse_rating(first, lo, hi) if first else None

        def one(e: Example) -> float | None:
            return self.grader.ask(self.messages(e), parse, note)

        pool = ThreadPoolExecutor(self.params.concurrency)
        try:
            futures = [pool.submit(one, e) for e in examples]
            got = [f.result() for f in futures]
        finally:  # a dead judge: stop now, do not send the rest of the batch
            pool.shutdown(wait=True, cancel_futures=True)
        missing = [e.id for e, v in zip(examples, got, strict=True) if v is None]
        if missing:
            c = self.grader.counts
            raise RuntimeError(
                f"judge_rating: {len(missing)} of {len(examples)} records got no rating (first: "
                f"{missing[0]!r}; transport errors {c.transport_errors}, malformed replies "
                f"{c.malformed}); no scores written instead of a partial mean. Fix the judge "
                "and re-run: ratings already given are cached"
            )
        return {self.name: np.asarray(got, dtype=np.float64)}
