"""Errors that keep their promises (issue 31, items 10, 11): an unreadable input, a link loop
given as an argument, a read-only output folder, a full disk, a corrupt Parquet page and a dead
Ray address each give one line and the documented exit status, never a traceback, and leave
every output as it was. File permissions are made to bind root (the tests' user) by dropping
the two capabilities that override them in the child process."""

from __future__ import annotations

import json
import os
import socket

import pyarrow.parquet as pq
import pytest
from fault_helpers import leftovers, one_line_error, permissions_bind, run, snapshot

from instructmine.schema import table_from_records

GOOD = {"instruction": "Add two and two.", "input": "", "output": "Four."}
needs_permissions = pytest.mark.skipif(
    not permissions_bind(), reason="cannot make file permissions bind root here"
)


def _jsonl(path, n=5):
    path.write_text("".join(json.dumps({**GOOD, "output": f"Four {i}."}) + "\n" for i in range(n)))
    return path


def _pool(path, n=2000, row_group=500):
    recs = [
        {
            "id": f"r{i}",
            "source": "s",
            "messages": [
                {"role": "user", "content": f"Question {i}: " + f"word{i} " * 30},
                {"role": "assistant", "content": "An answer. " * 20 + str(i)},
            ],
        }
        for i in range(n)
    ]
    pq.write_table(table_from_records(recs), path, compression="zstd", row_group_size=row_group)
    return path


@needs_permissions
def test_an_unreadable_input_is_a_file_error_and_the_rest_is_kept(tmp_path):
    good = _jsonl(tmp_path / "good.jsonl")
    secret = _jsonl(tmp_path / "secret.jsonl")
    secret.chmod(0)
    r = run("ingest", good, secret, "-o", tmp_path / "pool.parquet", cwd=tmp_path, as_user=True)
    assert r.returncode == 3, r.stderr
    assert "partial input" in one_line_error(r.stderr)
    assert "permission denied" in r.stdout.lower()
    assert pq.read_metadata(tmp_path / "pool.parquet").num_rows == 5


def test_a_link_loop_as_an_argument_is_one_line(tmp_path):
    good = _jsonl(tmp_path / "good.jsonl")
    os.symlink(tmp_path / "loop.jsonl", tmp_path / "loop.jsonl")
    r = run("ingest", tmp_path / "loop.jsonl", good, "-o", tmp_path / "p.parquet", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    one_line_error(r.stderr)
    assert "symbolic link loop" in r.stdout
    r = run("export", tmp_path / "loop.jsonl", "-o", tmp_path / "x.jsonl", cwd=tmp_path)
    assert r.returncode == 1
    one_line_error(r.stderr)


@needs_permissions
@pytest.mark.parametrize("verb", ["ingest", "export", "dedup", "score"])
def test_a_read_only_output_folder_is_one_line(tmp_path, verb):
    pool = _pool(tmp_path / "pool.parquet", n=50)
    src = _jsonl(tmp_path / "src.jsonl")
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "kept.txt").write_text("mine")
    ro.chmod(0o555)
    args = {
        "ingest": ["ingest", src, "-o", ro / "pool.parquet"],
        "export": ["export", pool, "-o", ro / "out.jsonl"],
        "dedup": ["dedup", pool, "-o", ro / "dedup.parquet"],
        "score": ["score", pool, "-o", ro / "scores", "-i", "mtld", "--no-progress"],
    }[verb]
    try:
        r = run(*args, cwd=tmp_path, as_user=True)
    finally:
        ro.chmod(0o755)
    assert r.returncode == 1, r.stderr
    line = one_line_error(r.stderr)
    assert "permission denied" in line, line
    assert [p.name for p in ro.iterdir()] == ["kept.txt"]


@pytest.mark.parametrize("verb", ["export", "score"])
def test_a_full_disk_is_one_line_and_keeps_the_old_output(tmp_path, verb):
    out = tmp_path / "out"

    def args(pool):
        return {
            "export": ["export", pool, "-o", out / "x.jsonl"],
            "score": ["score", pool, "-o", out / "scores", "-i", "mtld", "--no-progress"],
        }[verb]

    assert run(*args(_pool(tmp_path / "pool.parquet")), cwd=tmp_path).returncode == 0
    before = snapshot(out)
    limit = 30_000 if verb == "export" else 4_000  # score files are small: a lower cap
    r = run(*args(_pool(tmp_path / "pool2.parquet", n=4000)), cwd=tmp_path, fsize=limit)
    assert r.returncode == 1, r.stderr
    line = one_line_error(r.stderr)
    assert "size limit" in line or "disk is full" in line, line
    after = snapshot(out)
    assert {k: v for k, v in after.items() if k in before} == before  # the old run, whole
    assert leftovers(out) == []


@pytest.mark.parametrize("verb", ["inspect", "export", "score", "ingest"])
def test_a_corrupt_parquet_page_is_one_line(tmp_path, verb):
    pool = _pool(tmp_path / "pool.parquet")
    data = bytearray(pool.read_bytes())
    column = pq.read_metadata(pool).row_group(2).column(4)  # messages.content of group 2
    start = column.data_page_offset
    for i in range(start + 200, start + column.total_compressed_size - 50, 40):
        data[i] ^= 0x5A
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(data))
    args = {
        "inspect": ["inspect", bad],
        "export": ["export", bad, "-o", tmp_path / "x.jsonl"],
        "score": ["score", bad, "-o", tmp_path / "scores", "-i", "mtld", "--no-progress"],
        "ingest": ["ingest", bad, "-o", tmp_path / "again.parquet"],
    }[verb]
    r = run(*args, cwd=tmp_path)
    line = one_line_error(r.stderr)
    if verb == "ingest":  # the row groups before the damaged one are kept: partial input
        assert r.returncode == 3, r.stderr
        assert pq.read_metadata(tmp_path / "again.parquet").num_rows == 1000
    else:
        assert r.returncode == 1, r.stderr
        assert "decompression" in line or "damaged" in line, line
        assert "bad.parquet" in line, line  # names the file


def test_a_dead_ray_address_fails_at_once_in_one_line(tmp_path):
    pytest.importorskip("ray")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pool = _pool(tmp_path / "pool.parquet", n=20)
    args = ["score", pool, "-o", tmp_path / "scores", "-i", "mtld", "--no-progress"]
    r = run(
        *args, "--runner", "ray", "--ray-address", f"127.0.0.1:{port}", cwd=tmp_path, timeout=60
    )  # before: Ray retried for over a minute
    assert r.returncode == 1, r.stderr
    assert "cannot reach a Ray cluster" in one_line_error(r.stderr)
    assert not (tmp_path / "scores").exists()
