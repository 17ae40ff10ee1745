"""Ingest: sources (files, folders, datasets folders, hub ids) -> one canonical pool Parquet.

Records stream through in batches; nothing is held whole. Each record is adapted to canonical
messages, validated, tagged with its source and category, and given a stable id. Bad records
go to ``POOL.rejects.jsonl`` with file, line/index and reason (or stop the run with
``strict``); ``POOL.ingest.json`` holds the summary (read = kept + rejected per file).
"""

from __future__ import annotations

import errno
import itertools
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, field_validator

from instructmine import atomic, ownership
from instructmine.atomic import refuse_overwriting_inputs
from instructmine.io import formats
from instructmine.io.errors import IngestError, Location, RecordError, Reject, excerpt
from instructmine.io.hub import hub_items, is_saved_dataset, saved_dataset_parts
from instructmine.io.ids import OccurrenceCounter
from instructmine.io.pool import BatchBuilder, PoolWriter
from instructmine.io.readers import ENCODING_ERRORS, Item, StreamBroken, is_data_file, iter_file
from instructmine.io.summary import IngestSummary, PartSummary
from instructmine.stage import Stage
from instructmine.stage import manifest_path as stage_manifest

TAG_FIELDS = ("source", "category")
_HUB_ID = re.compile(r"^(hf://)?[\w.-]+(/[\w.-]+)?$")
_SUFFIXES = (".gz", ".json", ".jsonl", ".ndjson", ".parquet", ".csv", ".tsv")


class SourceSpec(BaseModel):
    """One input: a path (file or folder) or a hub dataset id, with optional per-source tags."""

    model_config = ConfigDict(extra="forbid")

    path: str
    name: str | None = None  # source tag; default: a ``source`` field in the record, else
    # the file stem / folder name / hub id
    category: str | None = None  # used when the record has no ``category`` (or always, forced)
    format: str | None = None  # default: detected per file from its first record

    @field_validator("format")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return None if v is None else formats.canonical_format(v)


class IngestOptions(BaseModel):
    """Settings shared by all sources of one ingest."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    strict: bool = False
    source: str | None = None  # source tag for every input that has no name of its own
    category: str | None = None
    force_category: bool = False  # the given category wins over the record's own
    keep_extra: bool = False  # keep unmapped fields as JSON in ``meta``
    max_record_mb: float = 16.0
    encoding_errors: str = "strict"  # bytes that are not UTF-8: reject the record, or replace
    turns: str = "reject"  # ShareGPT / messages turns that do not alternate: reject or repair
    allow_partial: bool = False  # a file that cannot be read is not an error of the ingest
    overwrite: bool = False  # replace an existing OUT that instructmine did not write
    batch_size: int = 10_000
    references: Path | None = None  # FastChat reference answers for MT-Bench questions
    split: str | None = None  # split of hub datasets / DatasetDict folders
    config: str | None = None  # hub dataset configuration name

    @field_validator("format")
    @classmethod
    def _known(cls, v: str | None) -> str | None:
        return None if v is None else formats.canonical_format(v)

    @field_validator("encoding_errors")
    @classmethod
    def _errors(cls, v: str) -> str:
        if v not in ENCODING_ERRORS:
            raise ValueError(f"--encoding-errors must be one of {', '.join(ENCODING_ERRORS)}")
        return v

    @field_validator("turns")
    @classmethod
    def _turns(cls, v: str) -> str:
        if v not in formats.TURN_MODES:
            raise ValueError(f"--turns must be one of {', '.join(formats.TURN_MODES)}")
        return v

    @field_validator("max_record_mb", "batch_size")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be above 0")
        return v


def source_name(path: str) -> str:
    """Default source tag: the file name without data/compression suffixes, or the folder
    name, or the hub id."""
    p = Path(path.removeprefix("hf://"))
    if not p.exists():
        return path.removeprefix("hf://")
    name = p.name
    while name.lower().endswith(_SUFFIXES):
        name = name[: name.rfind(".")]
    return name or p.name


def _parts(spec: SourceSpec, opts: IngestOptions, skipped: list[str]):
    """Yield ``(label, items factory)`` for every file / split / stream of one source."""
    p = Path(spec.path)
    if p.is_file():
        yield str(p), lambda: _read(p, opts)
    elif p.is_dir():
        if is_saved_dataset(p):
            for label, items in saved_dataset_parts(p, opts.split):
                yield label, lambda items=items: items
            return
        entries = sorted(p.rglob("*"))
        files = [f for f in entries if f.is_file()]
        data = [f for f in files if is_data_file(f)]
        skipped.extend(str(f) for f in files if not is_data_file(f))
        skipped.extend(f"{f} ({why})" for f in entries if (why := broken_link(f)))
        if not data:
            raise IngestError(
                f"{p}: folder has no data files (.json, .jsonl, .parquet, .csv, optionally .gz)"
            )
        for f in data:
            yield str(f), lambda f=f: _read(f, opts)
    elif broken_link(p):
        raise IngestError(f"{spec.path}: {broken_link(p)}; fix or remove the link")
    elif p.suffix.lower() in _SUFFIXES or not _HUB_ID.match(spec.path):
        raise IngestError(f"{spec.path}: no such file or folder")
    else:
        repo = spec.path.removeprefix("hf://")
        yield f"hf://{repo}", lambda: hub_items(repo, opts.split, opts.config)


def broken_link(path: Path) -> str | None:
    """Why ``path`` is a symbolic link that cannot be read (a loop, or a missing target), or
    None (not a link, or a good one)."""
    if not path.is_symlink():
        return None
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop"
        return f"a dangling symbolic link (its target {os.readlink(path)} does not exist)"
    return None


def _read(path: Path, opts: IngestOptions) -> Iterator[Item]:
    return iter_file(path, int(opts.max_record_mb * 1e6), encoding_errors=opts.encoding_errors)


SAMPLE = 100  # records looked at to detect a file's format


def _peek_format(items: Iterator[Item], label: str) -> tuple[str, str, Iterator[Item]]:
    """Detect a file's format from its first (up to) :data:`SAMPLE` records: the format most
    of them fit. Returns ``(format, how it was found, items)``; records that do not fit are
    rejected one by one later, so one odd record never costs the good ones around it."""
    from collections import Counter

    head: list[Item] = []
    votes: Counter[str] = Counter()
    first: dict | None = None
    for item in items:
        head.append(item)
        if isinstance(item[1], dict):
            first = item[1] if first is None else first
            fmt = formats.detect(item[1])
            if fmt is not None:
                votes[fmt] += 1
        if len(head) >= SAMPLE or isinstance(item[1], StreamBroken):
            break
    if not head:
        raise IngestError(f"{label}: no records")
    rest = itertools.chain(head, items)
    if votes:
        fmt, n = votes.most_common(1)[0]
        return fmt, f"{n} of {len(head)} sampled records", rest
    if first is None:
        return "unknown", "", rest
    if {"question_id", "choices"} <= first.keys():
        raise IngestError(
            f"{label}: a FastChat answer file (answers without their questions); "
            "pass it as --references to join its answers to MT-Bench questions"
        )
    raise IngestError(
        f"{label}: cannot detect the record format: none of the first {len(head)} records "
        f"fits one (the first has keys {sorted(first)[:12]}); pass --format with one of "
        f"{', '.join(formats.FORMATS)}"
    )


class _Run:
    """State of one ingest: writer, rejects file, id counter, summary."""

    def __init__(
        self,
        out: Path,
        opts: IngestOptions,
        progress: Callable[[int], None] | None,
        stage: Stage,
    ):
        self.opts = opts
        self.stage = stage
        self.out = Path(out)
        self.rejects_path = rejects_path(self.out)
        self.summary = IngestSummary(out=str(self.out), rejects=str(self.rejects_path))
        self.counter = OccurrenceCounter()
        self.builder = BatchBuilder()
        self.progress = progress
        self.max_chars = int(opts.max_record_mb * 1e6)
        self.references = formats.load_references(opts.references) if opts.references else None
        self.writer = PoolWriter(self.out)
        # the rejects are written beside the old ones and replace them with the pool, so a
        # failed or interrupted ingest keeps the previous pool, rejects and manifest together
        self.rejects_tmp = atomic.temporary_sibling(self.rejects_path)
        try:
            self.rejects = open(self.rejects_tmp, "wb")  # noqa: SIM115
        except BaseException:  # Ctrl-C or an unwritable rejects path: drop the pool's temporary
            self.writer.abort()
            raise

    def reject(self, part: PartSummary, loc: Location, reason: str, raw: Any = None) -> None:
        r = Reject(part.source, loc, reason, None if raw is None else excerpt(raw))
        if self.opts.strict:
            raise IngestError(r.message() + " (--strict: stopped at the first bad record)")
        self.rejects.write(orjson.dumps(r.to_dict()) + b"\n")

    def check_turns(self, convs: list, key: str, raw: dict) -> tuple[list, int]:
        """Turn order checked (or repaired, with ``turns="repair"``) in every conversation."""
        out, fixes = [], 0
        for conv in convs:
            conv, n = formats.check_turns(conv, key, len(raw[key]), self.opts.turns == "repair")
            out.append(conv)
            fixes += n
        return out, fixes

    def flush(self) -> None:
        if len(self.builder):
            self.writer.write(self.builder.flush(self.counter))

    def run_part(self, spec: SourceSpec, part: PartSummary, items: Iterator[Item]) -> None:
        fmt = spec.format or self.opts.format
        detected = ""
        if fmt is None:
            fmt, detected, items = _peek_format(items, part.path)
        part.format = fmt
        adapt = formats.make_adapter(fmt, self.references) if fmt != "unknown" else None
        extra_skip = set(formats.FIELDS.get(fmt, ())) | set(TAG_FIELDS)
        turn_key = formats.TURN_KEYS.get(fmt)
        category = spec.category or self.opts.category
        force = self.opts.force_category and category is not None
        for loc, raw in items:
            part.read += 1
            if isinstance(raw, RecordError):
                part.rejected += 1
                if isinstance(raw, StreamBroken):
                    part.error = f"{loc}: {raw}"
                self.reject(part, loc, str(raw))
                continue
            try:
                if not isinstance(raw, dict):
                    raise RecordError(f"a record must be a JSON object, got {type(raw).__name__}")
                if adapt is None:
                    raise RecordError("format unknown (no object record to detect it from)")
                convs = adapt(raw)
                fixes = 0
                if turn_key is not None:
                    convs, fixes = self.check_turns(convs, turn_key, raw)
                for conv in convs:
                    formats.validate(conv, self.max_chars)
            except RecordError as e:
                part.rejected += 1
                self.reject(part, loc, _misfit(str(e), raw, fmt, detected), raw)
                continue
            part.repaired += fixes > 0  # counted only when the repaired record is kept
            src = spec.name or self.opts.source or _tag(raw, "source") or part.source
            cat = category if force else (_tag(raw, "category") or category)
            meta = None
            if self.opts.keep_extra:
                meta = _meta(raw, extra_skip)
            for conv in convs:
                self.builder.add(src, cat, conv, meta)
            part.kept += 1
            part.rows += len(convs)
            if len(self.builder) >= self.opts.batch_size or self.builder.chars > 256_000_000:
                self.flush()
                if self.progress:
                    self.progress(self.summary.read)

    def finish(self) -> None:
        self.flush()
        self.rejects.close()
        if self.writer.rows == 0:  # nothing kept: no empty pool (the rejects say why)
            self.writer.abort()
            if self.out.exists():  # the previous pool keeps its own rejects and manifest
                self.rejects_path = self.out.with_name(self.out.stem + ".failed.rejects.jsonl")
                self.summary.rejects = str(self.rejects_path)
            os.replace(self.rejects_tmp, self.rejects_path)
            return
        self.writer.finish()
        with atomic.interrupts_deferred():  # pool, rejects and manifest move in together
            self.writer.commit()
            os.replace(self.rejects_tmp, self.rejects_path)
            self.stage.write(manifest_path(self.out), self.summary.to_dict())

    def abort(self) -> None:
        self.writer.abort()
        self.rejects.close()
        self.rejects_tmp.unlink(missing_ok=True)


def _misfit(reason: str, raw: Any, fmt: str, detected: str) -> str:
    """Say so when a record does not fit the format detected for its file."""
    if not detected or not isinstance(raw, dict) or formats.detect(raw) == fmt:
        return reason
    return (
        f"{reason} (the file was read as {fmt}, detected from {detected}; this record has "
        f"keys {sorted(raw)[:12]})"
    )


def _display(spec: SourceSpec, label: str) -> str:
    root = Path(spec.path)
    if root.is_dir() and Path(label).is_relative_to(root):
        return str(Path(label).relative_to(root))
    return Path(label).name if root.is_file() else label


def _meta(raw: dict, skip: set[str]) -> str | None:
    """The record's unmapped fields as JSON text; a ``meta`` object (an ``instructmine
    export``) is taken back as it was, and the pool ``id`` exported beside it is dropped."""
    exported = raw.get("meta")
    if isinstance(exported, dict):
        extra = dict(exported)
        extra.update((k, v) for k, v in raw.items() if k not in skip and k not in ("id", "meta"))
    else:
        extra = {k: v for k, v in raw.items() if k not in skip}
    return orjson.dumps(extra, default=str).decode() if extra else None


def _tag(raw: dict, key: str) -> str | None:
    v = raw.get(key)
    return v if isinstance(v, str) and v.strip() else None


def rejects_path(out: Path | str) -> Path:
    """``POOL.rejects.jsonl``: the rejected records of the ingest that wrote a pool."""
    out = Path(out)
    return out.with_name(out.stem + ".rejects.jsonl")


def manifest_path(out: Path | str) -> Path:
    """``POOL.ingest.json``: the ingest summary and stage manifest written next to a pool."""
    return stage_manifest(out, "ingest")


def _stage(specs: Sequence[SourceSpec], out: Path, opts: IngestOptions) -> Stage:
    """The ingest stage: every source path (and the references file) is an input; a hub id
    cannot be hashed, so an ingest reading one always runs."""
    inputs: dict[str, Path | str] = {
        f"source[{i}]": s.path for i, s in enumerate(specs) if _readable(s.path)
    }  # an unreadable source is a file error of the run, not a digest to record
    if opts.references is not None:
        inputs["references"] = opts.references
    config = {
        "options": opts.model_dump(mode="json", exclude={"overwrite"}),
        "sources": [s.model_dump(mode="json") for s in specs],
    }
    return Stage("ingest", 1, config, inputs=inputs, outputs=[out, rejects_path(out)])


def _readable(path: str | Path) -> bool:
    """True when every file of ``path`` (a file, or a folder's files) can be opened; a
    source that is not a local path (a hub id) counts as readable (it is not hashed)."""
    p = Path(path)
    try:
        files = (
            [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()] if p.is_dir() else []
        )
        for f in files:
            with open(f, "rb"):
                pass
    except OSError:
        return False
    return True


def as_spec(src: str | Path | SourceSpec) -> SourceSpec:
    """Accept a path, a hub id or a :class:`SourceSpec`."""
    return src if isinstance(src, SourceSpec) else SourceSpec(path=str(src))


def ingest(
    sources: Sequence[str | Path | SourceSpec],
    out: Path | str,
    options: IngestOptions | None = None,
    progress: Callable[[int], None] | None = None,
    **kwargs: Any,
) -> IngestSummary:
    """Read every source into one canonical pool Parquet at ``out`` and return the summary.

    ``kwargs`` are :class:`IngestOptions` fields (when ``options`` is not given). With
    ``strict`` the first bad record or unreadable file raises :class:`IngestError` and no pool
    is written; otherwise bad records go to ``POOL.rejects.jsonl`` and unreadable files are
    listed as file errors in the summary. ``progress`` is called with the running read count.
    When ``POOL.ingest.json`` shows the same sources (by content), options and untouched
    outputs, nothing is redone and the stored summary is returned with ``skipped`` set.
    """
    opts = options or IngestOptions(**kwargs)
    specs = [as_spec(s) for s in sources]
    if not specs:
        raise IngestError("no sources given")
    _refuse_inputs(specs, Path(out), opts)
    for dest in (Path(out), rejects_path(out), manifest_path(out)):
        atomic.remove_stale_for(dest)  # temporaries of a killed ingest into the same OUT
    stage = _stage(specs, Path(out), opts)
    done = stage.done(manifest_path(out))
    if done is not None:
        return IngestSummary.from_dict(done).mark(stage, manifest_path(out), True)
    stage.start(manifest_path(out))
    run: _Run | None = None
    try:
        run = _Run(Path(out), opts, progress, stage)
        for spec in specs:
            default_name = spec.name or opts.source or source_name(spec.path)
            try:
                parts = list(_parts(spec, opts, run.summary.skipped_files))
            except IngestError as e:
                _file_error(run, PartSummary(default_name, spec.path), e)
                continue
            for label, items in parts:
                part = PartSummary(source=default_name, path=label, file=_display(spec, label))
                run.summary.parts.append(part)
                try:
                    run.run_part(spec, part, items())
                except IngestError as e:
                    if opts.strict:
                        raise
                    _file_error(run, part, e, append=False)
        if opts.strict and run.summary.file_errors:
            raise IngestError(run.summary.file_errors[0].error or "file error")
        run.finish()
    except BaseException:  # Ctrl-C included, also while the pool is being finished
        if run is not None:
            run.abort()
        raise
    return run.summary.mark(stage, manifest_path(out), False)


def _refuse_inputs(specs: Sequence[SourceSpec], out: Path, opts: IngestOptions) -> None:
    """Refuse, before anything is written, a pool / rejects / manifest path that is an input
    (a source file, a data file inside a source folder, or the references file)."""
    inputs: list[Path] = [Path(s.path) for s in specs]
    for p in list(inputs):
        if p.is_dir():
            inputs.extend(f for f in p.rglob("*") if f.is_file() and is_data_file(f))
    if opts.references is not None:
        inputs.append(Path(opts.references))
    outputs = [out, rejects_path(out), manifest_path(out)]
    refuse_overwriting_inputs(outputs, inputs)
    ownership.refuse_foreign(outputs[:1], manifest_path(out), opts.overwrite)


def _file_error(run: _Run, part: PartSummary, err: IngestError, append: bool = True) -> None:
    if run.opts.strict:
        raise err
    part.error = str(err)
    if append:
        run.summary.parts.append(part)
    r = Reject(part.source, Location(part.path), str(err))
    run.rejects.write(orjson.dumps(r.to_dict()) + b"\n")
