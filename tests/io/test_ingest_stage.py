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
    assert not first.skipped and first.kept > 0
    mtime = out.stat().st_mtime_ns

    again = ingest([src], out)
    assert again.skipped and again.kept == first.kept and again.parts[0].read == first.read
    assert out.stat().st_mtime_ns == mtime  # not rewritten
    assert json.loads((tmp_path / "pool.ingest.json").read_text())["stage"]["name"] == "ingest"

    assert not ingest([src], out, source="renamed").skipped  # options are part of the key
    records = json.loads(src.read_text())
    src.write_text(json.dumps(records[:5]))  # same name, new content
    changed = ingest([src], out)
    assert not changed.skipped and changed.kept == 5
    assert pq.read_metadata(out).num_rows == 5

    out.unlink()  # an output removed since: redone
    assert not ingest([src], out).skipped and out.is_file()


def test_hub_ingest_leaves_the_process_online(tmp_path, monkeypatch):
    """An unreachable hub switches Hugging Face offline only around the load (it used to set
    the environment for the rest of the process, so later hub calls silently went offline)."""
    import os

    import huggingface_hub.constants as hub_constants

    import instructmine.io.hub as hub

    for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(hub_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hub, "_hub_reachable", lambda: False)
    seen = {}
    real = hub.offline

    def spy():
        seen["used"] = True
        return real()

    monkeypatch.setattr(hub, "offline", spy)
    summary = ingest(["no-such-org/no-such-dataset"], tmp_path / "pool.parquet")
    assert seen == {"used": True}
    assert summary.kept == 0 and "hub dataset failed" in summary.file_errors[0].error
    assert not any(k in os.environ for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE"))
    assert hub_constants.HF_HUB_OFFLINE is False
