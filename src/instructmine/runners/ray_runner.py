"""Run indicators over a pool on a Ray cluster, with the local runner's files, cache and resume.

The pool Parquet is read with Ray Data, cut into blocks of ``window`` records (streamed, no
shuffle) so every actor gets work, and passed through ``map_batches`` with a fixed pool of
:class:`_Scorer` actors. Each actor creates one
:class:`~instructmine.indicators.state.RunState` and calls every indicator's ``setup()`` once,
so ``perplexity`` and ``ifd`` in one actor still share their forward passes. An actor scores a
batch exactly as the local runner scores a window (:func:`~instructmine.runners.local.
score_window`): cached records skipped, length-sorted chunks, one atomic part file a chunk in
the indicator's cache under ``out_dir``. Parts are named by their ids, and every actor works
from the same snapshot of finished ids, so a batch Ray retries after a worker died rewrites the
same parts: nothing lost, nothing twice. The driver then writes ``OUT/<indicator>.parquet``
with the local runner's :func:`~instructmine.runners.local.finish` (same bytes as a local run).

``out_dir`` (and the pool) must be on a path every node reaches: a shared file system mounted
at the same path on every node, or a pyarrow URI such as ``s3://bucket/prefix`` (every node
then needs credentials for the store; ``docs/ray.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from instructmine.indicators.base import Indicator
from instructmine.runners.local import ScoringError, finish, plan_run, score_window
from instructmine.runners.parts import PartStore
from instructmine.storage import as_ref, open_output


class RayScoreOptions(BaseModel):
    """How scoring uses the cluster: where it is, how many actors, what each actor needs."""

    model_config = ConfigDict(extra="forbid")

    address: str | None = Field("auto", description="'auto', 'host:port', or None: private")
    actors: int = Field(2, ge=1, description="scoring actors (each loads the models once)")
    num_cpus: float = Field(1.0, ge=0, description="CPUs per actor (fractions allowed)")
    num_gpus: float = Field(
        0.0, ge=0, description="GPUs per actor, asked only when an indicator loads a model"
    )
    resources: dict[str, float] = Field(
        default_factory=dict, description="custom resources per actor, e.g. {scorer: 1}"
    )


def needs_model(indicators: Sequence[Indicator]) -> bool:
    """True when any indicator loads a model (so actors ask for the configured GPUs)."""
    return any(ind.model_name is not None for ind in indicators)


class _Scorer:
    """A Ray Data actor: the indicators set up once, then one call per batch of records."""

    def __init__(
        self,
        pool: str,
        indicators: list[Indicator],
        stores: dict[str, PartStore],
        done: dict[str, pa.Array],
        chunk_size: int,
        threads: int | None,
    ) -> None:
        from instructmine.indicators.state import RunState

        if threads is not None:
            import torch

            torch.set_num_threads(threads)
        self.pool = as_ref(pool)
        self.indicators = indicators
        self.stores = stores
        self.done = done
        self.chunk_size = chunk_size
        state = RunState()  # per actor: models shared by this actor's indicators
        for ind in indicators:
            ind.setup(state)

    def __call__(self, batch: pa.Table) -> pa.Table:
        names, counts = [], []
        for ind in self.indicators:
            scored = [0]

            def advance(k: int, scored: list[int] = scored) -> None:
                scored[0] += k

            score_window(
                self.pool,
                ind,
                batch,
                self.done[ind.name],
                self.stores[ind.name],
                self.chunk_size,
                advance,
                by_content=True,
            )
            names.append(ind.name)
            counts.append(scored[0])
        return pa.table({"indicator": names, "n": pa.array(counts, pa.int64())})


def _scoring_error(err: BaseException) -> ScoringError | None:
    """The indicator's own :class:`ScoringError` inside Ray's wrapping exceptions, if any."""
    seen = set()
    while err is not None and id(err) not in seen:
        seen.add(id(err))
        if isinstance(err, ScoringError):
            return err
        cause = getattr(err, "cause", None)
        err = cause if isinstance(cause, BaseException) else err.__cause__
    return None


def run_ray(
    pool: Path | str,
    indicators: Sequence[Indicator],
    out_dir: Path | str,
    *,
    options: RayScoreOptions | None = None,
    window: int = 2048,
    chunk_size: int = 64,
    on_chunk: Callable[[str, int], None] | None = None,
    threads: int | None = None,
) -> dict[str, Path | str]:
    """Score ``pool`` with ``indicators`` into ``out_dir`` on Ray; return each output file.

    Same outputs, cache and resume as :func:`~instructmine.runners.local.run_local`: records
    cached by an earlier run (local or Ray) are not scored again. ``window`` records make one
    block (one actor call); ``chunk_size`` records one cached part. ``on_chunk(indicator, n)``
    is called as actors report finished batches. ``threads`` sets torch's threads per actor.
    """
    from instructmine.cluster import connect

    options = options or RayScoreOptions()
    pool, out_dir = as_ref(pool), open_output(out_dir)  # local paths made absolute
    plan = plan_run(pool, indicators, out_dir)
    pending = plan.pending()
    if pending:
        gpus = options.num_gpus if needs_model(pending) else 0.0
        with connect(options.address) as ray:
            ray.data.DataContext.get_current().enable_progress_bars = False
            source = open_output(pool)
            ds = ray.data.read_parquet(source.path, filesystem=source.fs)
            ds = ds.select_columns(["id", "messages"])
            ds = ds.repartition(target_num_rows_per_block=window)
            ds = ds.map_batches(
                _Scorer,
                batch_size=window,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=options.actors),
                fn_constructor_kwargs={
                    "pool": str(pool),
                    "indicators": list(pending),
                    "stores": {ind.name: plan.stores[ind.name] for ind in pending},
                    "done": {ind.name: plan.done[ind.name] for ind in pending},
                    "chunk_size": chunk_size,
                    "threads": threads,
                },
                num_cpus=options.num_cpus,
                num_gpus=gpus,
                resources=dict(options.resources) or None,
            )
            try:
                for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None):
                    for name, n in zip(
                        batch.column("indicator").to_pylist(),
                        batch.column("n").to_pylist(),
                        strict=True,
                    ):
                        if on_chunk is not None and n:
                            on_chunk(name, n)
            except Exception as err:
                cause = _scoring_error(err)
                if cause is not None:
                    raise ScoringError(str(cause)) from None
                raise
    return {
        ind.name: finish(pool, ind, plan.ids, plan.stores[ind.name], out_dir) for ind in indicators
    }
