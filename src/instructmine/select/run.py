"""The select stage: a ranking in, a pool Parquet and its manifest (``OUT.select.json``) out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from instructmine.select.config import SelectConfig
from instructmine.stage import StageResult
from instructmine.stage import manifest_path as stage_manifest

STAGE_VERSION = 1


@dataclass
class SelectSummary(StageResult):
    """What one selection chose and why the rest was left (``passed_over``: counts by reason;
    ``skipped``: the stage manifest matched and nothing was re-run)."""

    out: str
    rule: dict[str, Any]
    selected: int
    ranked: int
    unscored: int
    threshold_reached: float | None
    passed_over: dict[str, int] = field(default_factory=dict)  # why records were left
    ids: list[str] = field(default_factory=list)
    method: str = "rule"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the manifest's body)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> SelectSummary:
        """Rebuild from a manifest (one written before ``passed_over`` calls it ``skipped``)."""
        doc = dict(doc)
        if isinstance(doc.get("skipped"), dict):
            doc["passed_over"] = doc.pop("skipped")
        return cls(**{k: v for k, v in doc.items() if k in cls.__dataclass_fields__})


def manifest_path(out: Path | str) -> Path:
    """``OUT.select.json`` beside the selected pool."""
    return stage_manifest(out, "select")


def align(want: pa.Array, have: pa.Array, what: str) -> np.ndarray:
    """Positions in ``have`` of each id of ``want``; raises naming ``what`` when one is absent."""
    import pyarrow.compute as pc

    pos = pc.index_in(want, value_set=have)
    if pos.null_count:
        missing = pc.filter(want, pc.is_null(pos)).to_pylist()[:3]
        raise ValueError(
            f"{what}: {pos.null_count} ranked records are missing (e.g. {missing}); "
            "rank, score and select the same pool"
        )
    return pos.to_numpy(zero_copy_only=False)


def ranking_file(ranked: Path) -> pq.ParquetFile:
    """Open a RANKED (or pool, or score) Parquet file; a one-line error when it is missing,
    not Parquet, or holds no records."""
    from instructmine.io.errors import PoolError

    if not ranked.is_file():
        raise PoolError(f"{ranked}: no such file (make a ranking with `instructmine rank`)")
    try:
        pf = pq.ParquetFile(ranked)
    except Exception as e:  # pyarrow raises ArrowInvalid / OSError for non-Parquet files
        raise PoolError(f"{ranked}: not a Parquet file ({e})") from None
    if pf.metadata.num_rows == 0:
        raise PoolError(
            f"{ranked}: holds no records, so there is nothing to select from; rank a pool "
            "that holds records (instructmine rank SCORES --rule RULE -o RANKED)"
        )
    return pf


def load_ranking(ranked: Path, by: str, scores: Path | None) -> tuple[pa.Array, np.ndarray]:
    """Ids and the ``by`` column, from RANKED or (when RANKED lacks it) the score folder."""
    from instructmine.scoring import load_scores
    from instructmine.scoring.files import files_from_dir

    cols = ranking_file(ranked).schema_arrow.names
    if "id" not in cols:
        raise ValueError(f"{ranked}: no 'id' column; pass a pool, a RANKED or a score file")
    if by == "id":
        raise ValueError(f"--by id: ids are not scores; rank by a score column of {ranked}")
    if by in cols:
        t = pq.read_table(ranked, columns=["id", by])
        return t.column("id").combine_chunks(), _floats(t.column(by), ranked, by)
    if scores is None:
        raise ValueError(
            f"{ranked}: no column {by!r} (it has {', '.join(cols)}); pick one with --by, or give "
            "the score folder holding it with --scores DIR"
        )
    table = load_scores(files_from_dir(scores))
    if by not in table.column_names:
        raise ValueError(f"{scores}: no score column {by!r} (it has {table.column_names[1:]})")
    ids = pq.read_table(ranked, columns=["id"]).column("id").combine_chunks()
    pos = align(ids, table.column("id").combine_chunks(), str(scores))
    return ids, _floats(table.column(by), scores, by)[pos]


def _floats(col: pa.ChunkedArray, where: Path, by: str) -> np.ndarray:
    if not (pa.types.is_floating(col.type) or pa.types.is_integer(col.type)):
        raise ValueError(f"{where}: column {by!r} is {col.type}, not a number")
    return col.to_numpy().astype(np.float64)


def run_select(
    ranked: Path | str,
    out: Path | str,
    config: SelectConfig,
    *,
    pool: Path | str | None = None,
    scores: Path | str | None = None,
    clusters: Path | str | None = None,
    queries: Path | str | None = None,
    work_dir: Path | str | None = None,
    overwrite: bool = False,
) -> SelectSummary:
    """Select records of POOL (default: RANKED itself) by ``config.method``'s ranking (a
    registered method, :mod:`instructmine.select.methods`); write OUT + manifest.

    ``scores``: a score folder supplying the ``by`` column when RANKED lacks it, and the stored
    embeddings of the diversity filter. ``clusters``: a dedup ``*.clusters.jsonl``; members of
    one cluster count once. Method ``rds`` ranks POOL by similarity to ``queries`` (a pool of
    the target's examples) with ``config.rds.model``; its ranking is written to ``work_dir``
    (default ``OUT.work/`` beside OUT) and its embeddings cached by content in
    ``$INSTRUCTMINE_CACHE/rds`` (shared by every selection of the same records with the
    same model, and kept across runs and checkouts).
    """
    from instructmine.atomic import refuse_overwriting_inputs
    from instructmine.io.pool import open_pool, require_records, write_subset
    from instructmine.ownership import refuse_foreign
    from instructmine.select import methods
    from instructmine.select.methods import MethodInputs
    from instructmine.select.walk import walk
    from instructmine.stage import Stage

    ranked, out = Path(ranked), Path(out)
    pool = Path(pool) if pool else ranked
    scores = Path(scores) if scores else None
    inputs: dict[str, Path] = {"ranked": ranked, "pool": pool}
    if scores is not None:
        inputs["scores"] = scores
    if clusters is not None:
        inputs["clusters"] = Path(clusters)
    method = methods.get(config.method)
    work = Path(work_dir) if work_dir else out.with_name(out.stem + ".work")
    given = MethodInputs(ranked, pool, scores, Path(queries) if queries else None, work)
    why = method.unavailable(given)
    if why is not None:
        raise ValueError(f"--method {method.name}: {why}")
    for name in method.reads:
        inputs[name] = getattr(given, name)
    manifest = manifest_path(out)
    refuse_overwriting_inputs([out, manifest], list(inputs.values()))
    refuse_foreign([out], manifest, overwrite)
    stage = Stage(
        "select", STAGE_VERSION, config.stage_key(), inputs, [out], models=method.models(config)
    )
    done = stage.done(manifest)
    if done is not None:
        return SelectSummary.from_dict(done).mark(stage, manifest, True)
    stage.start(manifest)

    if pool != ranked:
        require_records(pool, "select from")
    ids, values = method.ranking(given, config)
    if config.top is not None and config.top > len(ids):
        raise ValueError(
            f"--top {config.top} asks for more records than {ranked} ranks ({len(ids)}); "
            f"give --top {len(ids)} or fewer, or --frac"
        )
    groups: dict[str, np.ndarray] = {}
    columns = sorted({q.column for q in config.quotas})
    if columns:
        names = open_pool(pool).schema_arrow.names
        for c in columns:
            if c not in names:
                raise ValueError(f"quota on {c!r}: {pool} has no such column (it has {names})")
        t = open_pool(pool).read(columns=["id", *columns])
        pos = align(ids, t.column("id").combine_chunks(), str(pool))
        groups = {c: np.asarray(t.column(c).to_pylist(), dtype=object)[pos] for c in columns}
    cluster_key = read_clusters(clusters, ids) if clusters is not None else None
    vectors = None
    if config.diverse is not None:
        from instructmine.scoring import read_embeddings

        if scores is None:
            raise ValueError(
                "--diverse needs the stored embeddings: give the score folder with --scores DIR "
                f"(scored with `-i {config.embeddings_indicator}`)"
            )
        vid, vecs = read_embeddings(scores, config.embeddings_indicator)
        vectors = vecs[align(ids, vid, f"{scores} embeddings")]
    n = config.top
    if config.frac is not None:
        n = int(round(config.frac * int(np.count_nonzero(~np.isnan(values)))))
    result = walk(
        ids.to_numpy(zero_copy_only=False),
        values,
        n=n,
        descending=config.order == "descending",
        below=config.below,
        above=config.above,
        quotas=config.quotas,
        groups=groups,
        clusters=cluster_key,
        vectors=vectors,
        diverse=config.diverse,
        backend=config.backend,
    )
    chosen_ids = ids.take(pa.array(result.chosen)).to_pylist()
    write_subset(pool, chosen_ids, out)
    summary = SelectSummary(
        out=str(out),
        rule={"by": config.by, "order": config.order},
        selected=len(chosen_ids),
        ranked=result.ranked,
        unscored=result.unscored,
        threshold_reached=float(values[result.chosen[-1]]) if len(result.chosen) else None,
        passed_over=result.skipped,
        ids=chosen_ids,
        method=config.method,
    )
    stage.write(manifest, {**summary.to_dict(), "parameters": config.stage_key()})
    return summary.mark(stage, manifest, False)


def read_clusters(path: Path | str, ids: pa.Array) -> np.ndarray:
    """Each record's cluster key: the kept id of its dedup cluster, else its own id."""
    import orjson

    rep: dict[str, str] = {}
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
                kept = doc["kept"]
                members = [d["id"] for d in doc["duplicates"]]
            except (orjson.JSONDecodeError, KeyError, TypeError) as e:
                raise ValueError(
                    f"{path}:{lineno}: not a dedup cluster line ({e}); pass the "
                    "OUT.clusters.jsonl written by `instructmine dedup`"
                ) from None
            for m in members:
                rep[m] = kept
    return np.asarray([rep.get(i, i) for i in ids.to_pylist()], dtype=object)
