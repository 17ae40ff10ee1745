"""Build a mixture: sample each component's ids, write the pool and a manifest of exact ids.

Sampling is seeded per component by ``(seed, component name)`` through NumPy's PCG64, over the
pool's ids in file order, so the same spec, seed and pools give the same ids on any machine.
Without replacement a component takes a random subset. ``replace: upsample`` takes whole
shuffled passes over the pool and a random subset for the rest; ``replace: true`` draws i.i.d.
with replacement. A record taken again gets a distinct id, ``<id>~r<k>`` for its k-th repeat,
and ``meta.mix_repeat_of`` naming the original id.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from instructmine.mix.spec import MixSpec, MixSpecError, load_spec, resolve_counts
from instructmine.stage import StageResult
from instructmine.stage import manifest_path as stage_manifest

STAGE_VERSION = 1
REPEAT_SEP = "~r"


def manifest_path(out: Path | str) -> Path:
    """The manifest written beside a mixture pool: ``POOL.mix.json``."""
    return stage_manifest(out, "mix")


def repeat_id(original: str, k: int) -> str:
    """The id of the k-th repeat (k >= 1) of record ``original``."""
    return f"{original}{REPEAT_SEP}{k}"


@dataclass
class MixSummary(StageResult):
    """What a mixture build wrote: counts and exact ids per component (``skipped``: the spec
    and every component pool were unchanged and the pool kept)."""

    out: str
    total: int
    counts: dict[str, int]
    categories: dict[str, str]
    ids: dict[str, list[str]] = field(repr=False)
    repeats: dict[str, int]
    seed: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the manifest's summary)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MixSummary:
        """Back from :meth:`to_dict` (extra keys such as the stage block are ignored)."""
        keys = ("out", "total", "counts", "categories", "ids", "repeats", "seed")
        return cls(**{k: d[k] for k in keys})


def _component_seed(seed: int, name: str) -> list[int]:
    from hashlib import blake2b

    return [seed, int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big")]


def sample_indices(n: int, k: int, mode: bool | str, seed: list[int]) -> list[int]:
    """``k`` row indices of a pool of ``n`` records, deterministic in ``seed``."""
    import numpy as np

    rng = np.random.Generator(np.random.PCG64(seed))
    if k == 0:
        return []
    if mode is True:
        return rng.integers(0, n, size=k).tolist()
    if k <= n:
        return rng.permutation(n)[:k].tolist()
    passes, rest = divmod(k, n)  # upsample
    out: list[int] = []
    for _ in range(passes):
        out.extend(rng.permutation(n).tolist())
    out.extend(rng.permutation(n)[:rest].tolist())
    return out


def top_ranked(ranked: Path, pool_ids: list[str], k: int, where: str, name: str) -> list[str]:
    """The ``k`` best-ranked ids of ``ranked`` (an ``instructmine rank`` output) that are in the
    pool, in rank order; records without a prediction (null scores) are never taken."""
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(ranked, columns=["id", "predicted_log_loss"])
    keep = set(pool_ids)
    pred = table.column("predicted_log_loss").to_numpy(zero_copy_only=False)
    ids = [
        r
        for r, p in zip(table.column("id").to_pylist(), pred, strict=True)
        if r in keep and np.isfinite(p)
    ]
    if len(ids) < k:
        raise MixSpecError(
            f"{where}: component {name!r} asks for the top {k} of {ranked}, which ranks only "
            f"{len(ids)} records of {len(keep)} in its pool; lower its size, or rank the "
            "component's own pool (scored with every indicator the rule needs)"
        )
    return ids[:k]


def _sample(spec: MixSpec, counts: dict[str, int], where: str) -> dict[str, list[str]]:
    from instructmine.io.pool import pool_ids

    picked: dict[str, list[str]] = {}
    for name, comp in spec.components.items():
        ids = pool_ids(comp.pool).to_pylist()
        mode = spec.replace if comp.replace is None else comp.replace
        k = counts[name]
        if comp.select is not None:
            picked[name] = top_ranked(comp.select.ranked, ids, k, where, name)
            continue
        if k > len(ids) and mode is False:
            raise MixSpecError(
                f"{where}: component {name!r} asks for {k} records from {comp.pool}, which has "
                f"{len(ids)}, without replacement; lower its size, or set 'replace: upsample' "
                "(or 'replace: true') to repeat records"
            )
        if not ids and k:
            raise MixSpecError(f"{where}: component {name!r}: {comp.pool} has no records")
        picked[name] = [
            ids[i] for i in sample_indices(len(ids), k, mode, _component_seed(spec.seed, name))
        ]
    return picked


def _assemble(spec: MixSpec, picked: dict[str, list[str]], tmpdir: Path):
    """Arrow table of the mixture: each component's records in sampled order, repeats renamed."""
    import pyarrow as pa

    from instructmine.io.pool import read_pool, write_subset

    tables = []
    seen: dict[str, str] = {}
    repeats: dict[str, int] = {}
    for i, (name, comp) in enumerate(spec.components.items()):
        order = picked[name]
        unique = list(dict.fromkeys(order))
        for rid in unique:
            if rid in seen:
                raise MixSpecError(
                    f"record {rid} is in components {seen[rid]!r} and {name!r}; give the "
                    "components pools without shared records (deduplicate them)"
                )
            seen[rid] = name
        part = tmpdir / f"{i}.parquet"
        write_subset(comp.pool, unique, part)
        table = read_pool(part)
        row = {rid: j for j, rid in enumerate(table.column("id").to_pylist())}
        table = table.take(pa.array([row[r] for r in order], pa.int64()))
        ids, metas, times = [], [], {}
        n_rep = 0
        for rid, meta in zip(order, table.column("meta").to_pylist(), strict=True):
            k = times.get(rid, 0)
            times[rid] = k + 1
            if k == 0:
                ids.append(rid)
                metas.append(meta)
                continue
            n_rep += 1
            extra = json.loads(meta) if meta else {}
            extra.update({"mix_repeat_of": rid, "mix_repeat": k})
            ids.append(repeat_id(rid, k))
            metas.append(json.dumps(extra, ensure_ascii=False, sort_keys=True))
        repeats[name] = n_rep
        table = table.set_column(
            table.schema.get_field_index("id"), "id", pa.array(ids, pa.string())
        )
        table = table.set_column(
            table.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string())
        )
        tables.append(table)
    return pa.concat_tables(tables, promote_options="permissive"), repeats


def _split(ids: list[str], counts: dict[str, int]) -> dict[str, list[str]]:
    out, at = {}, 0
    for name, k in counts.items():
        out[name] = ids[at : at + k]
        at += k
    return out


def _refuse_empty(spec: MixSpec, counts: dict[str, int], where: str) -> None:
    """An empty mixture, or a component asked for ``count: 0``, is a spec error."""
    zero = [n for n, c in spec.components.items() if c.count is not None and c.count == 0]
    if zero:
        raise MixSpecError(
            f"{where}: component {zero[0]!r} has count: 0; give it a count above 0, or remove it"
        )
    if sum(counts.values()) == 0:
        raise MixSpecError(f"{where}: the mixture would hold no records; give it a size")


def build_mixture(
    spec: MixSpec | Path | str, out: Path | str, where: str | None = None, overwrite: bool = False
) -> MixSummary:
    """Sample ``spec`` (a :class:`MixSpec` or a YAML path) into the pool ``out``.

    Writes ``out`` and ``POOL.mix.json`` (the manifest: counts, categories and the exact ids per
    component, plus the stage block). Skipped, returning the stored summary with
    ``skipped`` set, when the spec and every component pool are unchanged and ``out`` is
    intact. Raises :class:`MixSpecError` for an impossible spec.
    """
    from instructmine import atomic, ownership
    from instructmine.io.errors import PoolError
    from instructmine.io.pool import require_records
    from instructmine.stage import Stage

    if not isinstance(spec, MixSpec):
        where = where or str(spec)
        spec = load_spec(spec)
    where = where or "mixture spec"
    out = Path(out)
    counts = resolve_counts(spec, where)
    _refuse_empty(spec, counts, where)
    pools = {f"pool:{n}": c.pool for n, c in spec.components.items()}
    pools.update({f"ranked:{n}": c.select.ranked for n, c in spec.components.items() if c.select})
    atomic.refuse_overwriting_inputs([out, manifest_path(out)], list(pools.values()))
    ownership.refuse_foreign([out], manifest_path(out), overwrite)
    for name, comp in spec.components.items():
        if not Path(comp.pool).is_file():
            raise MixSpecError(
                f"{where}: component {name!r}: no pool file {comp.pool} (make it with "
                "`instructmine ingest`, or fix 'pool')"
            )
        if comp.select is not None and not Path(comp.select.ranked).is_file():
            raise MixSpecError(
                f"{where}: component {name!r}: no ranking {comp.select.ranked} (make it with "
                "`instructmine rank SCORES --rule RULE -o RANKED`, or fix 'select.ranked')"
            )
        try:
            require_records(comp.pool, f"mix from component {name!r}")
        except PoolError as e:
            raise MixSpecError(f"{where}: {e}") from None
    stage = Stage("mix", STAGE_VERSION, spec.model_dump(mode="json"), inputs=pools, outputs=[out])
    done = stage.done(manifest_path(out))
    if done is not None:
        return MixSummary.from_dict(done).mark(stage, manifest_path(out), True)
    stage.start(manifest_path(out))
    picked = _sample(spec, counts, where)
    out.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".mix-{out.name}-"
    for stale in out.parent.glob(atomic.glob_escape(prefix) + "*"):  # a killed build's
        shutil.rmtree(stale, ignore_errors=True)
    atomic.remove_stale_for(out)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=prefix) as tmp:
        table, repeats = _assemble(spec, picked, Path(tmp))
    atomic.write_table(table, out, compression="zstd")
    summary = MixSummary(
        out=str(out),
        total=table.num_rows,
        counts=counts,
        categories={n: c.category for n, c in spec.components.items()},
        ids=_split(table.column("id").to_pylist(), counts),
        repeats=repeats,
        seed=spec.seed,
    )
    stage.write(manifest_path(out), summary.to_dict())
    return summary.mark(stage, manifest_path(out), False)
