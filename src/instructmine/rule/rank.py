"""The rank stage: a rule applied to every record of a scored pool, ranked (lower predicted log
loss first) into a Parquet file of ``rank``, ``id``, ``predicted_log_loss``, ``row``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from instructmine.rule.apply import (
    column_files,
    iter_predictions,
    param_mismatches,
    score_files,
)
from instructmine.rule.order import external_sort
from instructmine.rule.rules import Rule, RuleError, load_rule
from instructmine.stage import StageResult, manifest_path

STAGE_VERSION = 1


@dataclass
class RankSummary(StageResult):
    """What a ranking wrote."""

    rule: str
    out: str
    records: int
    unscored: int
    param_mismatches: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """Plain dict for the stage manifest."""
        return asdict(self)


def rank_pool(
    scores: Path | str,
    rule: Rule | Path | str,
    out: Path | str,
    batch_rows: int = 65536,
    progress: bool = False,
    overwrite: bool = False,
) -> RankSummary:
    """Rank the records of SCORES by ``rule`` into ``out``; manifest ``OUT.rank.json``.

    Memory stays about ``batch_rows`` rows whatever the pool size. Records with a null score get
    no prediction (NaN) and rank last. Skipped when scores, rule and output are unchanged.
    ``param_mismatches``: indicator parameters that differ between the rule's fit and the score
    folder's ``scores.json`` (reported, not refused: such scores are on other scales than the
    rule's coefficients assume). An existing ``out`` instructmine did not write is refused
    unless ``overwrite``.
    """
    import pyarrow.parquet as pq

    from instructmine import atomic, ownership
    from instructmine.stage import RESULT_FIELDS, Stage, strip_stage

    rule = rule if isinstance(rule, Rule) else load_rule(rule)
    out = Path(out)
    files = score_files(scores)
    if any(pq.ParquetFile(f).metadata.num_rows == 0 for f in files):
        raise RuleError(
            f"{scores}: the scores hold no records, so there is nothing to rank; score a pool "
            "that holds records (instructmine score POOL -o SCORES)"
        )
    column_files(rule, files)  # fail on missing columns before anything is written
    atomic.refuse_overwriting_inputs([out], list(files))
    manifest = manifest_path(out, "rank")
    ownership.refuse_foreign([out], manifest, overwrite)
    config = {"rule": rule.model_dump(mode="json"), "batch_rows": batch_rows}
    inputs = {f"scores{i}": f for i, f in enumerate(files)}
    stage = Stage("rank", STAGE_VERSION, config, inputs, outputs=[out])
    done = stage.done(manifest)
    if done is not None:
        fields = {k: v for k, v in strip_stage(done).items() if k not in RESULT_FIELDS}
        return RankSummary(**fields).mark(stage, manifest, True)
    stage.start(manifest)
    with atomic.atomic_path(out) as tmp, _bar(progress, files) as advance:
        n, nan = external_sort(iter_predictions(rule, scores, batch_rows), tmp, batch_rows, advance)
    summary = RankSummary(
        rule=rule.name,
        out=str(out),
        records=n,
        unscored=nan,
        param_mismatches=param_mismatches(rule, scores),
    )
    stage.write(manifest, summary.to_dict())
    return summary.mark(stage, manifest, False)


class _bar:
    """A rich progress bar over records (a no-op when disabled)."""

    def __init__(self, enabled: bool, files: list[Path]):
        self.enabled = enabled
        self.total = None
        if enabled:
            import pyarrow.parquet as pq

            self.total = pq.ParquetFile(files[0]).metadata.num_rows

    def __enter__(self):
        if not self.enabled:
            return None
        from instructmine.progress import progress_bars

        self.progress = progress_bars(transient=True)
        self.progress.start()
        task = self.progress.add_task("ranking", total=self.total)
        return lambda n: self.progress.advance(task, n)

    def __exit__(self, *exc):
        if self.enabled:
            self.progress.stop()
        return False
