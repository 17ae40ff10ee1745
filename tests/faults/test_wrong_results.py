"""Wrong results with exit 0, now errors (issue 31, items 3, 5, 6, 7, 8): rules that cannot
rank, empty selections and mixtures, sizes larger than the pool, links that cannot be read,
and ``-o`` onto a file instructmine did not write, for every verb writing a file."""

from __future__ import annotations

import json
import math
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instructmine.atomic import OutputPathError
from instructmine.io import ingest
from instructmine.rule.rules import RuleError, load_rule
from instructmine.schema import table_from_records


def _pool(path, n=20, source="s"):
    records = [
        {
            "id": f"{source}{i}",
            "source": source,
            "messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"Answer {i}."},
            ],
        }
        for i in range(n)
    ]
    pq.write_table(table_from_records(records), path)
    return path


def _ranked(path, n=20):
    """A ranking of the records of :func:`_pool` (ids ``s0``...)."""
    ids = [f"s{i}" for i in range(n)]
    pq.write_table(pa.table({"id": ids, "predicted_log_loss": [float(i) for i in range(n)]}), path)
    return path


def _rule(tmp_path, none=False, **term):
    doc = {"name": "r", "intercept": 1.0, "terms": [{"aggregate": "x.mean", "coef": 1.0, **term}]}
    if none:
        doc["terms"] = []
    path = tmp_path / "rule.json"
    path.write_text(json.dumps(doc, allow_nan=True))
    return path


@pytest.mark.parametrize(
    ("term", "says"),
    [
        ({"std": 0}, "terms.0.std: must be a finite number above 0"),
        ({"std": math.nan}, "terms.0.std"),
        ({"coef": math.nan}, "terms.0.coef: Input should be a finite number"),
        ({"mean": math.inf}, "terms.0.mean"),
        ({"none": True}, "at least one term"),
    ],
)
def test_a_rule_that_cannot_rank_is_rejected_naming_the_key(tmp_path, term, says):
    with pytest.raises(RuleError, match="not a valid rule") as e:
        load_rule(_rule(tmp_path, **term))
    assert says in str(e.value) and "\n" not in str(e.value)


def test_select_top_zero_and_top_above_the_pool_are_errors(tmp_path):
    from pydantic import ValidationError

    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select

    with pytest.raises(ValidationError):
        SelectConfig(top=0)
    ranked = _ranked(tmp_path / "ranked.parquet")
    pool = _pool(tmp_path / "pool.parquet")
    out = tmp_path / "sel.parquet"
    with pytest.raises(ValueError, match="--top 1000 asks for more records"):
        run_select(ranked, out, SelectConfig(top=1000), pool=pool)
    assert not out.exists()
    assert run_select(ranked, out, SelectConfig(top=20), pool=pool).selected == 20


def test_mix_count_zero_is_an_error(tmp_path):
    from instructmine.mix.build import build_mixture
    from instructmine.mix.spec import MixSpec, MixSpecError

    pool = _pool(tmp_path / "pool.parquet")
    spec = MixSpec(components={"a": {"pool": pool, "category": "chat", "count": 0}})
    with pytest.raises(MixSpecError, match="count: 0"):
        build_mixture(spec, tmp_path / "mix.parquet")
    assert not (tmp_path / "mix.parquet").exists()


def test_experiments_n_records_above_the_pool_is_an_error():
    from instructmine.rule.experiments_config import SamplingConfig
    from instructmine.rule.sampling import sample_subsets

    ids = [f"s{i}" for i in range(20)]
    with pytest.raises(ValueError, match="n_records is 500 but the candidate pool holds only 20"):
        sample_subsets(ids, ["s"] * 20, None, SamplingConfig(k=2, n_records=500))


def test_link_loops_and_dangling_links_in_a_folder_are_reported(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "good.jsonl").write_text(
        json.dumps({"instruction": "Hi?", "input": "", "output": "Hello."}) + "\n"
    )
    os.symlink(data / "loop.jsonl", data / "loop.jsonl")
    os.symlink(data / "absent.jsonl", data / "dangling.jsonl")
    summary = ingest([data], tmp_path / "pool.parquet")
    skipped = " ".join(summary.skipped_files)
    assert "loop.jsonl (a symbolic link loop)" in skipped
    assert "dangling.jsonl (a dangling symbolic link" in skipped
    assert summary.rows == 1


def test_a_link_loop_given_as_the_source_is_a_file_error(tmp_path):
    os.symlink(tmp_path / "loop.jsonl", tmp_path / "loop.jsonl")
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"instruction": "Hi?", "input": "", "output": "Hello."}) + "\n")
    summary = ingest([tmp_path / "loop.jsonl", good], tmp_path / "pool.parquet")
    assert summary.rows == 1
    assert "symbolic link loop" in summary.file_errors[0].error


def _foreign(path):
    path.write_text('[{"instruction": "mine", "output": "not yours"}]\n')
    return path.read_bytes()


def test_every_verb_writing_a_file_refuses_a_foreign_output(tmp_path):
    from instructmine.dedup import dedup_pool
    from instructmine.io.export import export_pool
    from instructmine.mix.build import build_mixture
    from instructmine.mix.spec import MixSpec

    pool = _pool(tmp_path / "pool.parquet")
    spec = MixSpec(components={"a": {"pool": pool, "category": "chat", "count": 5}})
    verbs = {
        "export": lambda out, **kw: export_pool(pool, out, "alpaca", **kw),
        "dedup": lambda out, **kw: dedup_pool(pool, out, **kw),
        "mix": lambda out, **kw: build_mixture(spec, out, **kw),
        "ingest": lambda out, **kw: ingest([_alpaca(tmp_path)], out, **kw),
    }
    for name, verb in verbs.items():
        out = tmp_path / f"{name}.json"
        before = _foreign(out)
        with pytest.raises(OutputPathError, match="not written by instructmine"):
            verb(out)
        assert out.read_bytes() == before, name
        verb(out, overwrite=True)  # forced
        verb(out)  # now instructmine's own: re-running is fine


def _alpaca(tmp_path):
    path = tmp_path / "src.jsonl"
    path.write_text(json.dumps({"instruction": "Hi?", "input": "", "output": "Hello."}) + "\n")
    return path


def test_select_and_eval_refuse_a_foreign_output(tmp_path):
    from instructmine.evaluate.run import evaluate
    from instructmine.select.config import SelectConfig
    from instructmine.select.run import run_select

    ranked = _ranked(tmp_path / "ranked.parquet")
    pool = _pool(tmp_path / "pool.parquet")
    out = tmp_path / "some.json"
    before = _foreign(out)
    with pytest.raises(OutputPathError, match="--overwrite"):
        run_select(ranked, out, SelectConfig(top=5), pool=pool)
    with pytest.raises(OutputPathError, match="--overwrite"):  # before any model is loaded
        evaluate("no-such-model", suites=["loss"], out=out)
    assert out.read_bytes() == before
