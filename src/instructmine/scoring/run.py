"""The scoring stage: a pool in, one score file per indicator and a manifest out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from instructmine.scoring.files import MANIFEST, join_pool, load_scores
from instructmine.scoring.stats import ColumnStats, column_stats, correlation
from instructmine.stage import RESULT_FIELDS, Stage, StageResult, strip_stage

if TYPE_CHECKING:
    from instructmine.cluster import Runner
    from instructmine.runners.ray_runner import RayScoreOptions

STAGE_VERSION = 1


@dataclass
class ScoreSummary(StageResult):
    """What a scoring run produced: files, provenance, statistics, correlations (``skipped``:
    the stage manifest matched and nothing was recomputed)."""

    pool: str
    n_records: int
    files: dict[str, str]
    provenance: dict[str, dict[str, Any]]
    stats: dict[str, ColumnStats]
    correlation: dict[str, dict[str, float]] = field(default_factory=dict)
    joined: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {k: v for k, v in asdict(self).items() if k not in RESULT_FIELDS}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], skipped: bool = False) -> ScoreSummary:
        """Rebuild a summary from its JSON form (a stored manifest)."""
        data = {k: v for k, v in strip_stage(data).items() if k not in RESULT_FIELDS}
        stats = {k: ColumnStats(**v) for k, v in data["stats"].items()}
        summary = cls(**{**data, "stats": stats})
        summary.skipped = skipped
        return summary


def make_indicators(
    names: Sequence[str] | None = None, params: Mapping[str, Mapping[str, Any]] | None = None
) -> list:
    """Create indicators by name (default set when ``names`` is empty) with per-name params."""
    from instructmine.indicators.registry import DEFAULT_INDICATORS, create

    names = list(names or DEFAULT_INDICATORS)
    params = dict(params or {})
    unused = set(params) - set(names)
    if unused:
        raise ValueError(
            f"parameters given for indicator(s) not being run: {sorted(unused)} "
            f"(running: {', '.join(names)})"
        )
    return [create(n, **dict(params.get(n, {}))) for n in names]


def score_pool(
    pool: Path | str,
    out_dir: Path | str,
    indicators: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    join: Path | str | None = None,
    window: int = 2048,
    chunk_size: int = 64,
    progress: bool = True,
    threads: int | None = None,
    runner: Runner = "local",
    ray: RayScoreOptions | None = None,
) -> ScoreSummary:
    """Score ``pool`` (canonical Parquet) with ``indicators`` into ``out_dir`` and summarise.

    ``out_dir`` (and ``pool``) may be a local path or a pyarrow URI such as
    ``s3://bucket/prefix?endpoint_override=host:9000`` (``docs/ray.md``, "Outputs").

    ``params`` maps an indicator name to its parameters, e.g.
    ``{"perplexity": {"model": "smollm2-135m-instruct", "batch_size": 8}}``.
    With ``join``, also write the pool with every indicator column appended there.
    ``threads`` sets torch's intra-op thread count for the run (default: torch's own choice;
    under Ray, per actor). ``runner="ray"`` scores on a Ray cluster (``ray``: address, actors
    and their resources); the files, cache and manifest are the same as a local run's, so a
    run started on one runner resumes on the other.
    When ``out_dir/scores.json`` shows the same pool content, indicators (with their models'
    content fingerprints) and join path, the stored summary is returned and nothing runs.
    """
    from instructmine.atomic import refuse_file_as_folder
    from instructmine.io.pool import require_records
    from instructmine.runners.ray_runner import RayScoreOptions
    from instructmine.storage import as_ref, is_uri, open_output

    pool, out = as_ref(pool), open_output(out_dir)
    if join is not None and is_uri(str(join)):
        raise ValueError(
            f"--join {join}: the joined pool is written to a local path only; give a path "
            "(the score files themselves can go to a URI with -o)"
        )
    from instructmine.execute import backend_name

    if backend_name(runner) == "ray":  # chosen like every stage's backend (docs/stages.md)
        from instructmine.cluster import check_reachable, import_ray

        import_ray()  # a missing extra is reported before anything is written
        address = (ray or RayScoreOptions()).address
        if address not in (None, "auto", "local"):
            check_reachable(address)  # a dead address: one line now, not Ray's retry loop
    require_records(pool, "score")
    refuse_file_as_folder(out_dir, "score folder")
    created = None if is_uri(str(out_dir)) or Path(out_dir).exists() else Path(out_dir)
    try:
        return _score(
            pool,
            out,
            out_dir,
            indicators,
            params,
            join,
            window,
            chunk_size,
            progress,
            threads,
            runner,
            ray,
        )
    except BaseException:
        if created is not None:
            _remove_empty(created)  # a run that failed before writing anything leaves no folder
        raise


def _remove_empty(folder: Path) -> None:
    """Remove ``folder`` when it holds no file at all (only empty folders); a folder holding
    finished chunks (``cache/``) is kept: re-running resumes from them."""
    if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def _score(
    pool, out, out_dir, indicators, params, join, window, chunk_size, progress, threads, runner, ray
) -> ScoreSummary:
    """The body of :func:`score_pool` once the inputs and OUT are checked."""
    from instructmine.execute import backend_name
    from instructmine.runners.local import run_local
    from instructmine.storage import as_ref

    inds = make_indicators(indicators, params)
    outputs = [as_ref((out / f"{ind.name}.parquet").uri) for ind in inds]
    stage = Stage(
        "score",
        STAGE_VERSION,
        config={"indicators": {ind.name: ind.cache_key() for ind in inds}, "join": str(join)},
        inputs={"pool": pool},
        outputs=outputs + ([Path(join)] if join is not None else []),
    )
    manifest = as_ref((out / MANIFEST).uri)
    done = stage.done(manifest)
    if done is not None:
        return ScoreSummary.from_dict(done).mark(stage, manifest, True)
    stage.start(manifest)
    if backend_name(runner) == "ray":
        from instructmine.runners.ray_runner import run_ray

        files = run_ray(
            pool, inds, out, options=ray, window=window, chunk_size=chunk_size, threads=threads
        )
    else:
        files = run_local(
            pool,
            inds,
            out,
            window=window,
            chunk_size=chunk_size,
            progress=progress,
            threads=threads,
        )
    table = load_scores(files)
    columns = [c for c in table.column_names if c != "id"]
    summary = ScoreSummary(
        pool=str(pool),
        n_records=table.num_rows,
        files={k: str(v) for k, v in files.items()},
        provenance={ind.name: ind.provenance() for ind in inds},
        stats=column_stats(table, columns),
        correlation=correlation(table, columns),
    )
    if join is not None:
        summary.joined = str(join_pool(pool, files, Path(join)))
    previous = _listed_files(out_dir)
    stage.write(manifest, summary.to_dict())  # last: a run that stops before has no manifest
    _remove_unlisted(previous, summary.files)
    return summary.mark(stage, manifest, False)


def _listed_files(out_dir: Path | str) -> dict[str, Path | str]:
    """The score files the folder's previous manifest lists (none when there is none)."""
    from instructmine.scoring.files import files_from_dir

    try:
        return files_from_dir(out_dir)
    except (OSError, ValueError, KeyError):
        return {}


def _remove_unlisted(previous: Mapping[str, Path | str], now: Mapping[str, str]) -> None:
    """Remove the local score files of indicators the previous run had and this one has not
    (re-scoring a folder with fewer indicators): no stale column is left beside the manifest."""
    keep = {str(v) for v in now.values()}
    for name, path in previous.items():
        if name not in now and str(path) not in keep and isinstance(path, Path):
            path.unlink(missing_ok=True)
