"""The cross-cutting helpers every stage uses: atomic writes, overrides, the pool opener,
`write_subset`, content fingerprints and the stage manifest."""

from __future__ import annotations

import json
import os
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from instructmine import atomic
from instructmine.fingerprint import STORE_NAME, folder_fingerprint, model_fingerprint
from instructmine.io.pool import PoolError, open_pool, pool_ids, write_subset
from instructmine.overrides import OverrideError, parse_overrides
from instructmine.schema import table_from_records
from instructmine.stage import Stage, read_manifest, strip_stage


def _pool(path, n, prefix="r"):
    records = [
        {"id": f"{prefix}{i}", "source": "s", "messages": [
            {"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(n)
    ]  # fmt: skip
    pq.write_table(table_from_records(records), path, row_group_size=7)
    return path


# -- atomic writes ---------------------------------------------------------------------------


def test_atomic_write_leaves_old_file_on_error(tmp_path):
    dest = tmp_path / "out.json"
    atomic.write_json(dest, {"a": 1})
    with pytest.raises(RuntimeError), atomic.atomic_open(dest) as fh:
        fh.write(b"half")
        raise RuntimeError("killed")
    assert json.loads(dest.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary left


def test_atomic_refuses_folder_and_input_as_output(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(atomic.OutputPathError, match="is a folder"):
        atomic.write_text(tmp_path / "d", "x")
    src = tmp_path / "x.jsonl"
    src.write_text("{}")
    with pytest.raises(atomic.OutputPathError, match="also an input"):
        atomic.refuse_overwriting_inputs([tmp_path / "." / "x.jsonl"], [src])


def test_atomic_folder_replaces_and_stale_temporaries_are_removed(tmp_path):
    dest = tmp_path / "w"
    for text in ("one", "two"):
        with atomic.atomic_path(dest, folder=True) as tmp:
            (tmp / "f.txt").write_text(text)
    assert (dest / "f.txt").read_text() == "two"
    atomic.temporary_sibling(dest).write_text("left by a kill")
    assert atomic.remove_stale(tmp_path) == 1 and sorted(os.listdir(tmp_path)) == ["w"]


# -- overrides -------------------------------------------------------------------------------


def _append_many(path, tag, n):
    for i in range(n):
        atomic.append_line(path, json.dumps({"w": tag, "i": i, "pad": "x" * 5000}).encode())


def test_append_line_from_processes_keeps_every_whole_row_and_drops_a_torn_tail(tmp_path):
    import multiprocessing as mp

    table = tmp_path / "t.jsonl"
    table.write_bytes(b'{"w": "old", "i": 0}\n{"w": "to')  # a writer killed half-way
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(table, w, 40)) for w in ("a", "b", "c")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    rows = [json.loads(line) for line in table.read_text().splitlines()]  # every line parses
    assert rows[0] == {"w": "old", "i": 0}
    for w in "abc":
        assert [r["i"] for r in rows if r["w"] == w] == list(range(40))
    assert len(rows) == 121


def test_one_override_parser_for_every_command():
    got = parse_overrides(
        ["lora.r=8", "sft.learning_rate=2e-4", "name=yes", "lora.target_modules=[q_proj, v_proj]"]
    )
    assert got == {
        "lora": {"r": 8, "target_modules": ["q_proj", "v_proj"]},
        "sft": {"learning_rate": 2e-4},
        "name": "yes",  # YAML 1.1 booleans stay text
    }
    assert parse_overrides(["perplexity.model=/m"], "-p", 2) == {"perplexity": {"model": "/m"}}
    with pytest.raises(OverrideError, match="name.key=value"):
        parse_overrides(["model=/m"], "-p", 2)
    with pytest.raises(OverrideError, match="is a value, not a section"):
        parse_overrides(["a=1", "a.b=2"])


# -- pools -----------------------------------------------------------------------------------


def test_open_pool_one_error_type(tmp_path):
    with pytest.raises(PoolError, match="no such pool file"):
        open_pool(tmp_path / "missing.parquet")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(PoolError, match="not a Parquet pool file"):
        open_pool(tmp_path / "text.parquet")
    pq.write_table(pa.table({"id": ["a"], "source": ["s"]}), tmp_path / "nomsg.parquet")
    with pytest.raises(PoolError, match=r"missing columns \['messages'\]"):
        open_pool(tmp_path / "nomsg.parquet")
    pq.write_table(pa.table({"id": [1], "source": ["s"], "messages": [[]]}), tmp_path / "t.parquet")
    with pytest.raises(PoolError, match="'id' is int64, expected string"):
        open_pool(tmp_path / "t.parquet")


def test_write_subset_streams_in_pool_order(tmp_path):
    pool = _pool(tmp_path / "pool.parquet", 40)
    n = write_subset(pool, ["r33", "r2", "r17"], tmp_path / "sub.parquet", batch_size=5)
    sub = pq.read_table(tmp_path / "sub.parquet")
    assert n == 3 and sub.column("id").to_pylist() == ["r2", "r17", "r33"]
    assert sub.schema.equals(pq.read_schema(pool))
    assert pool_ids(tmp_path / "sub.parquet").to_pylist() == ["r2", "r17", "r33"]


def test_write_subset_errors_write_nothing(tmp_path):
    pool = _pool(tmp_path / "pool.parquet", 10)
    out = tmp_path / "sub.parquet"
    with pytest.raises(PoolError, match="1 of 2 ids are not in"):
        write_subset(pool, ["r1", "nope"], out)
    with pytest.raises(PoolError, match="listed more than once"):
        write_subset(pool, ["r1", "r1"], out)
    with pytest.raises(atomic.OutputPathError):
        write_subset(pool, ["r1"], pool)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pool.parquet"]


# -- fingerprints ----------------------------------------------------------------------------


def test_folder_fingerprint_follows_content_not_names_or_sizes(tmp_path):
    model = tmp_path / "m"
    model.mkdir()
    (model / "weights.bin").write_bytes(b"\x00" * 64)
    a = folder_fingerprint(model)
    assert (model / STORE_NAME).is_file()
    assert folder_fingerprint(model) == a
    time.sleep(0.01)
    (model / "weights.bin").write_bytes(b"\x01" * 64)  # same name, same size
    assert folder_fingerprint(model) != a
    assert model_fingerprint(model) == model_fingerprint(str(model) + "/")


def test_data_folder_digests_are_not_written_into_it(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.jsonl").write_text("{}\n")
    stage = Stage("t", 1, {}, inputs={"data": data})
    stage.write(tmp_path / "m.json", {})
    assert os.listdir(data) == ["a.jsonl"]


# -- the stage manifest ----------------------------------------------------------------------


def test_stage_skips_only_on_same_config_inputs_and_outputs(tmp_path):
    src, out, manifest = tmp_path / "in.txt", tmp_path / "out.txt", tmp_path / "m.json"
    src.write_text("input")

    def stage(**cfg):
        return Stage("demo", 1, {"k": 1, **cfg}, inputs={"src": src}, outputs=[out])

    s = stage()
    assert s.done(manifest) is None
    out.write_text("result")
    s.write(manifest, {"n": 3})
    doc = stage().done(manifest)
    assert doc is not None and strip_stage(doc) == {"n": 3}
    assert read_manifest(manifest)["stage"]["inputs"]["src"]["sha256"]
    assert stage(k=2).done(manifest) is None  # config
    assert Stage("demo", 2, {"k": 1}, inputs={"src": src}, outputs=[out]).done(manifest) is None
    out.write_text("tampered")  # an output changed since
    assert stage().done(manifest) is None
    out.write_text("result")
    assert stage().done(manifest) is not None
    src.write_text("other input")  # same name, new content
    assert stage().done(manifest) is None


def test_unhashable_input_always_runs(tmp_path):
    s = Stage("ingest", 1, {}, inputs={"hub": "org/dataset"})
    s.write(tmp_path / "m.json", {})
    assert s.done(tmp_path / "m.json") is None
