"""Sample K sub-datasets whose indicator means are spread out (DESIGN §2.2).

Two kinds, so a rule cannot merely learn which source a record came from:

- ``mix``: a random source mixture (Dirichlet weights over the sources, as the paper sampled
  from several sources), records drawn at random within each source;
- ``strat``: one quantile stratum of one indicator *within* each of a few sources (e.g. the top
  third of ``mtld`` inside Alpaca, Dolly and GSM8K), pooled.

Each sub-dataset carries its indicator aggregates (``<indicator>.mean``, plus ``.median`` for
heavy-tailed columns) and its source counts. Deterministic given the config's seed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from instructmine.rule.experiments_config import SamplingConfig


@dataclass
class Subset:
    """One sampled sub-dataset."""

    subset_id: str
    kind: str
    record_ids: list[str]
    sources: dict[str, int]
    aggregates: dict[str, float | None] = field(default_factory=dict)
    note: str = ""


def aggregates(
    values: dict[str, Any], rows: list[int], median_for: list[str]
) -> dict[str, float | None]:
    """``<col>.mean`` (and ``<col>.median`` for ``median_for``) over ``rows``, NaN-skipping."""
    import numpy as np

    out: dict[str, float | None] = {}
    for col, arr in values.items():
        v = arr[rows]
        v = v[np.isfinite(v)]
        out[f"{col}.mean"] = float(v.mean()) if v.size else None
        if col in median_for:
            out[f"{col}.median"] = float(np.median(v)) if v.size else None
    return out


def numeric_columns(scores: Any, wanted: list[str] | None) -> dict[str, Any]:
    """The numeric score columns (all but ``id``, or ``wanted``) as float64 arrays."""
    import numpy as np
    import pyarrow.types as pt

    cols = {}
    for name in scores.column_names:
        if name == "id":
            continue
        if wanted is not None and name not in wanted:
            continue
        typ = scores.schema.field(name).type
        if pt.is_integer(typ) or pt.is_floating(typ):
            cols[name] = scores.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
    if wanted is not None:
        absent = sorted(set(wanted) - set(cols))
        if absent:
            raise ValueError(
                f"indicator columns {absent} are not numeric columns of the scores; "
                f"have {sorted(c for c in scores.column_names if c != 'id')}"
            )
    return cols


def check_size(n_pool: int, cfg: SamplingConfig) -> None:
    """Raise ``ValueError`` when a sub-dataset of ``cfg.n_records`` cannot be drawn from a
    pool of ``n_pool`` records (it would silently come out smaller than asked)."""
    if cfg.n_records > n_pool:
        raise ValueError(
            f"sampling.n_records is {cfg.n_records} but the candidate pool holds only {n_pool} "
            f"records; set sampling.n_records to at most {n_pool} (sub-datasets are usually a "
            "small share of the pool), or use a larger pool"
        )


def sample_subsets(ids: list[str], sources: list[str], scores: Any, cfg: SamplingConfig):
    """Draw ``cfg.k`` sub-datasets from records ``ids`` (with ``sources``) and their scores.

    ``scores``: an Arrow table with ``id`` in the same order as ``ids`` (or None: no
    aggregates, strata fall back to mixtures).
    """
    import numpy as np

    check_size(len(ids), cfg)
    rng = np.random.default_rng(cfg.seed)
    values = numeric_columns(scores, cfg.indicators) if scores is not None else {}
    if scores is not None and scores.column("id").to_pylist() != list(ids):
        raise ValueError("scores ids differ from the candidate pool's ids (score that pool)")
    by_source: dict[str, list[int]] = {}
    for i, s in enumerate(sources):
        by_source.setdefault(s, []).append(i)
    names = sorted(by_source)
    n_mix = round(cfg.k * cfg.mixture_fraction) if values else cfg.k
    out: list[Subset] = []
    for j in range(cfg.k):
        if j < n_mix:
            w = rng.dirichlet([cfg.dirichlet_alpha] * len(names))
            want = rng.multinomial(cfg.n_records, w)
            rows: list[int] = []
            for name, n in zip(names, want, strict=True):
                pool = by_source[name]
                rows += rng.choice(pool, size=min(int(n), len(pool)), replace=False).tolist()
            kind, note = "mix", ""
        else:
            col = sorted(values)[(j - n_mix) % len(values)]
            q = int(rng.integers(cfg.strata))
            picked = rng.choice(names, size=min(cfg.strata_sources, len(names)), replace=False)
            cand: list[int] = []
            for name in picked:
                pool = np.array(by_source[name])
                v = values[col][pool]
                ok = np.isfinite(v)
                if not ok.any():
                    continue
                edges = np.quantile(v[ok], np.linspace(0, 1, cfg.strata + 1))
                hi = v <= edges[q + 1] if q + 1 < cfg.strata else np.ones_like(ok)
                cand += pool[ok & (v >= edges[q]) & hi].tolist()
            rows = rng.choice(cand, size=min(cfg.n_records, len(cand)), replace=False).tolist()
            kind, note = "strat", f"{col} stratum {q + 1}/{cfg.strata} of {list(picked)}"
        if len(rows) < cfg.n_records:  # said in the table, not silently
            note = f"{note}; " if note else ""
            note += f"short: {len(rows)} of {cfg.n_records} records (too few in its sources)"
        rows.sort()
        out.append(
            Subset(
                subset_id=f"{kind}{j:03d}",
                kind=kind,
                record_ids=[ids[r] for r in rows],
                sources=dict(sorted(Counter(sources[r] for r in rows).items())),
                aggregates=aggregates(values, rows, cfg.median_for),
                note=note,
            )
        )
    return out
