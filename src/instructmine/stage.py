"""The stage contract: input files + a validated config -> output files + a manifest.

Every stage (ingest, score, train, evaluate, and the science stages that follow) writes a
manifest: a JSON document holding the stage's own summary plus a ``"stage"`` block with

- ``name`` and ``version`` (bumped when a code change alters what the stage produces);
- ``config`` and its hash ``config_hash``;
- ``inputs``: for every input, its content digest (a file's SHA-256, or a folder's or model's
  content fingerprint, :mod:`instructmine.fingerprint`); models named by alias, folder or hub id
  are inputs too (``models``);
- ``outputs``: the digest of every output file or folder, as written;
- ``created`` and ``seconds``.

A stage asked to run again first reads its manifest: when the name, version, config hash and
every input digest match and every output is still there with the digest it was written with,
the stage is skipped and its stored summary returned. Digests recorded earlier are reused for
files whose size and modification time are unchanged, so a skip costs a few ``stat`` calls.
Inputs that are not local files or folders (a hub dataset id) can't be hashed: such a stage
always runs. A hub *model* is named by the revision found in the local cache, or by its id
alone when none is cached (the one place a name stands in for content).

Every stage function returns a :class:`StageResult` (its summary plus ``skipped``,
``outputs`` and ``manifest``); a skip is reported the same way by every verb: ``skipped``
true. Usage inside a stage function::

    stage = Stage("ingest", 1, config, inputs={"a.json": path}, outputs=[pool])
    return run_stage(stage, manifest_path(pool, "ingest"), work, load=Summary.from_dict)

or by hand: ``stage.done(manifest)`` (the stored document or None, no side effects), then
``stage.start(manifest)``, the work, ``stage.write(manifest, summary)``.

See ``docs/stages.md`` for the run-folder format and how to add a stage.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from instructmine.fingerprint import (
    digest_json,
    file_digest,
    folder_fingerprint,
    model_fingerprint,
)
from instructmine.storage import as_ref

STAGE_KEY = "stage"
RESULT_FIELDS = ("skipped", "outputs", "manifest")  # StageResult's own, never in a manifest
R = TypeVar("R", bound="StageResult")


def manifest_path(out: Path | str, stage: str, folder: bool = False) -> Path:
    """Where a stage's manifest goes: ``OUT.<stage>.json`` beside a file output (``pool.parquet``
    → ``pool.ingest.json``), or ``OUT/<stage>.json`` inside a ``folder`` output (``search/`` →
    ``search/search.json``). The one rule every stage's manifest path follows."""
    out = Path(out)
    return out / f"{stage}.json" if folder else out.with_name(f"{out.stem}.{stage}.json")


class StageResult:
    """The base of what every stage function returns: its own summary plus these three.

    ``skipped``: the manifest matched (inputs, config and outputs unchanged), so nothing ran
    and the stored summary was returned; ``outputs``: the stage's output files or folders;
    ``manifest``: where its manifest is. They are attributes set by :meth:`mark`, not
    dataclass fields of a subclass, so none of them is written into a manifest (and a dict
    result, ``evaluate``'s, can carry them too).
    """

    skipped: bool = False
    outputs: tuple[str, ...] | list[str] = ()
    manifest: str = ""

    def stage_fields(self) -> dict[str, Any]:
        """The three fields as a dict (for a ``--json`` summary)."""
        return {"skipped": self.skipped, "outputs": list(self.outputs), "manifest": self.manifest}

    def mark(self: R, stage: Stage, manifest: Path | str, skipped: bool) -> R:
        """Fill in the three stage fields; returns self."""
        self.skipped = skipped
        self.outputs = [str(as_ref(o)) for o in stage.outputs]
        self.manifest = str(as_ref(manifest))
        return self


def read_manifest(path: Path | str) -> dict[str, Any] | None:
    """A stage manifest's JSON document (a path or a URI), or None when absent or unreadable."""
    from instructmine.storage import open_output

    try:
        doc = json.loads(open_output(path).read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _digest(ref: Path | str, known: dict[str, Any] | None) -> dict[str, Any] | None:
    """Digest of a file or folder; None when it is neither (it cannot be hashed).

    An object-storage file (``s3://...``) is read whole and named by its SHA-256.
    """
    from instructmine.storage import is_uri, open_output

    if is_uri(str(ref)):
        loc = open_output(str(ref))
        if not loc.is_file():  # a missing object, or a prefix ("folder"): not hashed
            return None
        return {"sha256": hashlib.sha256(loc.read_bytes()).hexdigest()}
    path = Path(ref)
    if path.is_file():
        return file_digest(path, known if known and "sha256" in known else None)
    if path.is_dir():  # a data folder: its digests are remembered in the cache, not in it
        return {"fingerprint": folder_fingerprint(path, beside=False)}
    return None


def _same(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    if a is None or b is None:
        return False
    key = "sha256" if "sha256" in a else "fingerprint"
    return a.get(key) is not None and a.get(key) == b.get(key)


@dataclass
class Stage:
    """One stage run: its name, version, config, input and output paths."""

    name: str
    version: int
    config: Mapping[str, Any]
    inputs: Mapping[str, Path | str]
    outputs: Sequence[Path | str] = ()
    models: Mapping[str, str] = field(default_factory=dict)
    _started: float = field(default=0.0, init=False, repr=False)
    _input_digests: dict[str, Any] = field(default_factory=dict, init=False, repr=False)

    @property
    def config_hash(self) -> str:
        """Hash of the stage's config (JSON, keys sorted)."""
        return digest_json({"stage": self.name, "config": dict(self.config)})

    def _digests(self, known: Mapping[str, Any]) -> dict[str, Any]:
        out = {label: _digest(ref, known.get(label)) for label, ref in self.inputs.items()}
        for label, name in self.models.items():
            out[label] = {"fingerprint": model_fingerprint(name)}
        return out

    def done(self, manifest: Path | str) -> dict[str, Any] | None:
        """The stored manifest when this exact stage already finished, else None.

        No side effects: call :meth:`start` when the stage then runs (:func:`run_stage` does).
        """
        doc = read_manifest(manifest)
        block = (doc or {}).get(STAGE_KEY) or {}
        if not block or block.get("name") != self.name or block.get("version") != self.version:
            return None
        if block.get("config_hash") != self.config_hash:
            return None
        stored = block.get("inputs") or {}
        digests = self._digests(stored)
        if set(stored) != set(digests) or not all(
            _same(d, stored.get(k)) for k, d in digests.items()
        ):
            return None
        for ref, recorded in (block.get("outputs") or {}).items():
            if not _same(_digest(ref, recorded), recorded):
                return None
        if {str(as_ref(o)) for o in self.outputs} - set(block.get("outputs") or {}):
            return None
        return doc

    def start(self, manifest: Path | str | None = None) -> None:
        """Start the clock and take the input digests :meth:`write` records (digests of an
        earlier ``manifest`` are reused for files whose size and mtime are unchanged)."""
        self._started = time.perf_counter()
        block = ((read_manifest(manifest) if manifest is not None else None) or {}).get(STAGE_KEY)
        self._input_digests = self._digests((block or {}).get("inputs") or {})

    def block(self) -> dict[str, Any]:
        """The ``"stage"`` block for outputs as they are now on disk."""
        if not self._input_digests:
            self._input_digests = self._digests({})
        return {
            "name": self.name,
            "version": self.version,
            "config": dict(self.config),
            "config_hash": self.config_hash,
            "inputs": self._input_digests,
            "outputs": {str(as_ref(o)): _digest(o, None) for o in self.outputs},
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "seconds": round(time.perf_counter() - self._started, 2) if self._started else None,
        }

    def write(self, manifest: Path | str, summary: Mapping[str, Any]) -> dict[str, Any]:
        """Write ``summary`` plus the stage block to ``manifest`` atomically; return it.

        ``manifest`` may be a URI (one upload: it appears whole, after the outputs it names).
        """
        from instructmine.storage import open_output

        summary = {k: v for k, v in dict(summary).items() if k not in RESULT_FIELDS}
        doc = {**summary, STAGE_KEY: self.block()}
        text = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
        open_output(manifest).write_text(text)
        return doc


def strip_stage(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A manifest's summary without the stage block."""
    return {k: v for k, v in doc.items() if k != STAGE_KEY}


def skipped_fields(cls: type, doc: Mapping[str, Any]) -> dict[str, Any]:
    """A dataclass result's fields from its stored summary, as a skipped call reports them:
    nothing ran now (``ran`` 0, ``seconds`` 0), every unit reused."""
    fields = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
    return {**fields, "ran": 0, "reused": doc["ran"] + doc["reused"], "seconds": 0.0}


def run_stage(
    stage: Stage,
    manifest: Path | str,
    work: Callable[[], R],
    load: Callable[[dict[str, Any]], R],
    summary: Callable[[R], Mapping[str, Any]] | None = None,
) -> R:
    """Run a stage under its manifest: the stored result (``load(summary)``, ``skipped`` set)
    when :meth:`Stage.done` matches, else ``work()``, whose result is written as the manifest
    (``summary(result)``, default ``result.to_dict()``) after its outputs."""
    doc = stage.done(manifest)
    if doc is not None:
        return load(strip_stage(doc)).mark(stage, manifest, True)
    stage.start(manifest)
    result = work()
    stage.write(manifest, summary(result) if summary is not None else result.to_dict())
    return result.mark(stage, manifest, False)
