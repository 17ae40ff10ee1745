"""Export a pool to the formats fine-tuning tools read.

- ``alpaca``: a JSON array of ``{instruction, input, output[, system][, history]}``
  (LLaMA-Factory ``formatting: alpaca``; axolotl ``type: alpaca``). The whole user turn goes to
  ``instruction`` and ``input`` is empty (the instruction/input split is not recoverable).
- ``sharegpt``: a JSON array of ``{conversations: [{from, value}]}`` with from
  ``system``/``human``/``gpt`` (LLaMA-Factory ``formatting: sharegpt``; axolotl chat_template
  with ``field_messages: conversations``).
- ``messages``: JSONL of ``{messages: [{role, content}]}`` (TRL ``SFTTrainer``, OpenAI).

By default each record also carries ``id``, ``source`` and ``category``, and ``meta`` (the
original record's extra fields kept by ``ingest --keep-extra``, as an object) when the pool has
it; the tools ignore extra fields. Re-ingesting keeps the tags, so ids come back identical, and
``ingest --keep-extra`` takes ``meta`` back as it was: ingest -> export -> ingest is lossless.
Records a format cannot express (alpaca needs alternating user/assistant turns) are skipped and
listed in ``OUT.skipped.jsonl`` with the reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

from instructmine.atomic import atomic_open, refuse_overwriting_inputs
from instructmine.io.pool import iter_pool, open_pool, require_records
from instructmine.ownership import refuse_foreign
from instructmine.stage import Stage

EXPORT_FORMATS = ("alpaca", "sharegpt", "messages")
_SHAREGPT_FROM = {"system": "system", "user": "human", "assistant": "gpt"}


@dataclass
class ExportSummary:
    """Counts of one export."""

    out: str
    format: str
    written: int = 0
    skipped: int = 0
    skipped_path: str | None = None


class NotExportable(ValueError):
    """A record cannot be expressed in the chosen format."""


def to_alpaca(messages: list[dict]) -> dict:
    """Canonical messages -> an alpaca record (system, history pairs, last exchange)."""
    msgs = list(messages)
    rec: dict = {}
    if msgs and msgs[0]["role"] == "system":
        rec["system"] = msgs.pop(0)["content"]
    if len(msgs) % 2 or any(
        m["role"] != ("user" if i % 2 == 0 else "assistant") for i, m in enumerate(msgs)
    ):
        raise NotExportable("alpaca needs alternating user/assistant turns after one system turn")
    history = [[msgs[i]["content"], msgs[i + 1]["content"]] for i in range(0, len(msgs) - 2, 2)]
    out = {"instruction": msgs[-2]["content"], "input": "", "output": msgs[-1]["content"]}
    if history:
        out["history"] = history
    out.update(rec)
    return out


def to_sharegpt(messages: list[dict]) -> dict:
    """Canonical messages -> a ShareGPT record."""
    return {
        "conversations": [
            {"from": _SHAREGPT_FROM[m["role"]], "value": m["content"]} for m in messages
        ]
    }


def to_messages(messages: list[dict]) -> dict:
    """Canonical messages -> an OpenAI/TRL messages record."""
    return {"messages": [{"role": m["role"], "content": m["content"]} for m in messages]}


_CONVERT = {"alpaca": to_alpaca, "sharegpt": to_sharegpt, "messages": to_messages}


def manifest_path(out: Path | str) -> Path:
    """``OUT.export.json``: the export's summary and stage manifest, beside the file."""
    out = Path(out)
    return out.with_name(out.stem + ".export.json")


def export_pool(
    pool: Path | str,
    out: Path | str,
    fmt: str = "messages",
    tags: bool = True,
    overwrite: bool = False,
) -> ExportSummary:
    """Stream ``pool`` into ``out`` in ``fmt`` (alpaca/sharegpt JSON array, messages JSONL).

    ``OUT.export.json`` records it; an existing ``out`` instructmine did not write is refused
    unless ``overwrite``."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(
            f"unknown export format {fmt!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    out = Path(out)
    skipped_path = out.with_name(out.name + ".skipped.jsonl")
    refuse_overwriting_inputs([out, skipped_path, manifest_path(out)], [pool])
    refuse_foreign([out], manifest_path(out), overwrite)
    require_records(pool, "export")  # missing, malformed or empty: fails before any write
    out.parent.mkdir(parents=True, exist_ok=True)
    convert = _CONVERT[fmt]
    array = fmt != "messages"
    summary = ExportSummary(out=str(out), format=fmt)
    skipped = None
    columns = ["id", "source", "category", "messages"]
    if tags and "meta" in open_pool(pool).schema_arrow.names:
        columns.append("meta")
    with atomic_open(out, "wb") as f:
        if array:
            f.write(b"[")
        for batch in iter_pool(pool, columns=columns):
            for row in batch.to_pylist():
                try:
                    rec = convert(row["messages"])
                except NotExportable as e:
                    if skipped is None:
                        skipped = open(skipped_path, "wb")  # noqa: SIM115
                    skipped.write(orjson.dumps({"id": row["id"], "reason": str(e)}) + b"\n")
                    summary.skipped += 1
                    continue
                if tags:
                    rec.update(id=row["id"], source=row["source"])
                    if row["category"] is not None:
                        rec["category"] = row["category"]
                    if row.get("meta"):
                        rec["meta"] = orjson.loads(row["meta"])
                data = orjson.dumps(rec)
                if array:
                    f.write(b"\n  " if summary.written == 0 else b",\n  ")
                f.write(data)
                if not array:
                    f.write(b"\n")
                summary.written += 1
        if array:
            f.write(b"\n]\n")
    if skipped is not None:
        skipped.close()
        summary.skipped_path = str(skipped_path)
    else:
        skipped_path.unlink(missing_ok=True)
    config = {"format": fmt, "tags": tags}
    Stage("export", 1, config, {"pool": pool}, [out]).write(manifest_path(out), asdict(summary))
    return summary
