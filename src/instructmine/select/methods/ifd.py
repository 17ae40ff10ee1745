"""``ifd``: the highest IFD first, keeping IFD ≤ 1 unless ``below`` says otherwise (Cherry LLM)."""

from __future__ import annotations

from typing import Any

from instructmine.select.methods import MethodInputs, SelectionMethod, register


@register
class Ifd(SelectionMethod):
    """Instruction-following difficulty (the ``ifd`` score column), highest first."""

    name = "ifd"
    summary = "the highest IFD first, IFD <= 1 (needs the ifd score: --scores)"
    ranks_by = "ifd"
    order = "descending"

    def configure(self, config: Any) -> None:
        from instructmine.select.config import IFD_BELOW

        super().configure(config)
        if config.below is None:
            config.below = IFD_BELOW

    def unavailable(self, inputs: MethodInputs) -> str | None:
        import pyarrow.parquet as pq

        from instructmine.scoring.files import files_from_dir

        ranked = inputs.ranked or inputs.pool
        if "ifd" in pq.read_schema(ranked).names:
            return None
        where = [str(ranked)]
        if inputs.scores is not None:
            files = files_from_dir(inputs.scores).values()
            if any("ifd" in pq.read_schema(f).names for f in files):
                return None
            where.append(f"score folder {inputs.scores}")
        return (
            f"needs the 'ifd' score column (indicator ifd), which {' and '.join(where)} lack; "
            "compute it with `instructmine score POOL -o SCORES -i ifd` and pass the score "
            "folder (--scores SCORES, or `scores:` in a config)"
        )

    def ranking(self, inputs: MethodInputs, config: Any) -> Any:
        from instructmine.select.run import load_ranking

        return load_ranking(inputs.ranked or inputs.pool, "ifd", inputs.scores)

    def compare_options(self, cfg: Any) -> dict[str, Any]:
        return {"below": cfg.ifd_below}
