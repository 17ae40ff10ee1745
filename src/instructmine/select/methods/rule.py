"""``rule``: walk a RANKED file's ``by`` column (default ``predicted_log_loss``, lowest first)."""

from __future__ import annotations

from typing import Any

from instructmine.select.methods import MethodInputs, SelectionMethod, register


@register
class Rule(SelectionMethod):
    """The InstructMining rule's ranking (``instructmine rank``), or any score column."""

    name = "rule"
    summary = "rank by --by (a RANKED file from `instructmine rank`, or any score column)"
    reads_ranked = True

    def unavailable(self, inputs: MethodInputs) -> str | None:
        if inputs.ranked is None:
            return "no `ranked:` file (make one with `instructmine rank`)"
        return None

    def ranking(self, inputs: MethodInputs, config: Any) -> Any:
        from instructmine.select.run import load_ranking

        return load_ranking(inputs.ranked, config.by, inputs.scores)

    def compare_options(self, cfg: Any) -> dict[str, Any]:
        return {"by": cfg.by, "order": cfg.order}
