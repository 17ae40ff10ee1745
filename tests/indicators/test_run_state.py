"""Indicator state belongs to one run: no memo or model outlives it; `--threads` is applied."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers_indicators import alpaca_records, write_pool
from typer.testing import CliRunner

from instructmine.indicators.input_length import InputLength
from instructmine.indicators.registry import create
from instructmine.indicators.state import Memo, RunState
from instructmine.runners.local import run_local


def test_two_runs_do_not_share_the_nll_memo(tiny_llama_dir, contract_pool, tmp_path, count_nll):
    """Each run computes every record's forward passes itself (a module-global memo served the
    second run from the first, so a determinism check compared a run with its own cache)."""
    per_run = []
    for run in range(2):
        inds = [create(n, model=str(tiny_llama_dir), batch_size=4) for n in ("perplexity", "ifd")]
        before = sum(count_nll)
        run_local(contract_pool, inds, tmp_path / f"run{run}", chunk_size=5, progress=False)
        per_run.append(sum(count_nll) - before)
    n = pq.read_metadata(contract_pool).num_rows
    # perplexity's conditional pass is shared with IFD, which adds the response-alone pass
    assert per_run == [2 * n, 2 * n]


def test_run_state_shares_models_by_content(tiny_llama_dir):
    loads = []
    state = RunState(loader=lambda kind, name: loads.append((kind, name)) or object())
    a = state.causal_lm(str(tiny_llama_dir))
    b = state.causal_lm(str(tiny_llama_dir) + "/")  # another spelling of the same folder
    assert a is b and state.loads == 1
    assert RunState(loader=lambda k, n: object()).causal_lm(str(tiny_llama_dir)) is not a


def test_memo_is_bounded():
    memo = Memo(2)
    for k in range(5):
        memo.put(k, k)
    assert len(memo) == 2 and memo.get(0) is None and memo.get(4) == 4


@pytest.fixture
def thread_spy(monkeypatch):
    """Record torch's thread count each time ``input_length`` scores a chunk."""
    import torch

    seen: list[int] = []
    real = InputLength.score

    def spying(self, examples):
        seen.append(torch.get_num_threads())
        return real(self, examples)

    monkeypatch.setattr(InputLength, "score", spying)
    return seen


@pytest.mark.parametrize("threads", [1, 3])
def test_score_threads_reach_the_indicator(tmp_path, tiny_llama_dir, thread_spy, threads):
    """`instructmine score --threads N`: the indicator runs with N torch threads (the option
    was accepted and never passed on), and the caller's setting is restored afterwards."""
    import torch

    from instructmine.cli import app

    pool = write_pool(tmp_path / "pool.parquet", alpaca_records(6))
    before = torch.get_num_threads()
    res = CliRunner().invoke(
        app,
        ["score", str(pool), "-o", str(tmp_path / "s"), "-i", "input_length",
         "-p", f"input_length.tokenizer={tiny_llama_dir}", "--threads", str(threads),
         "--no-progress"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert thread_spy and set(thread_spy) == {threads}
    assert torch.get_num_threads() == before
