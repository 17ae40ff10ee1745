"""Ingest is a stage: the same sources (by content) and options skip the work; any change
redoes it."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq

from instructmine.io import ingest
from shared_paths import FIXTURES


def test_unchanged_ingest_is_skipped_and_changes_redo_it(tmp_path):
    src = tmp_path / "dolly.json"
    shutil.copy(FIXTURES / "dolly_3k.json", src)
    out = tmp_path / "pool.parquet"
    first = ingest([src], out)
    assert not first.up_to_date and first.kept > 0
    mtime = out.stat().st_mtime_ns

    again = ingest([src], out)
    assert again.up_to_date and again.kept == first.kept and again.parts[0].read == first.read
    assert out.stat().st_mtime_ns == mtime  # not rewritten
    assert json.loads((tmp_path / "pool.ingest.json").read_text())["stage"]["name"] == "ingest"

    assert not ingest([src], out, source="renamed").up_to_date  # options are part of the key
    records = json.loads(src.read_text())
    src.write_text(json.dumps(records[:5]))  # same name, new content
    changed = ingest([src], out)
    assert not changed.up_to_date and changed.kept == 5
    assert pq.read_metadata(out).num_rows == 5

    out.unlink()  # an output removed since: redone
    assert not ingest([src], out).up_to_date and out.is_file()
