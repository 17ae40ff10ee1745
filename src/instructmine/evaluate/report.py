"""A rich summary table of an evaluation results document."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    return f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v))


def result_rows(doc: dict) -> list[tuple[str, str, str, str, str]]:
    """(suite, benchmark, metric, value, n) rows for every headline number in ``doc``."""
    rows = []
    for suite, res in doc.get("results", {}).items():
        for bench, r in res.items():
            if suite == "nlp":
                for m in ("acc", "acc_norm", "chance"):
                    if m in r:
                        rows.append((suite, bench, m, _fmt(r[m]), str(r["n_items"])))
            elif suite == "code":
                for m in sorted(x for x in r if x.startswith("pass@")):
                    rows.append((suite, bench, m, _fmt(r[m]), str(r["n_problems"])))
            elif suite == "chat":
                if "win_rate" in r:
                    rows.append(
                        (
                            suite,
                            bench,
                            "win_rate",
                            _fmt(r["win_rate"]),
                            f"{r['n_judged']}/{r['n_items']}",
                        )
                    )
                else:
                    rows.append(
                        (
                            suite,
                            bench,
                            f"score ({r['scale']})",
                            _fmt(r["score"]),
                            f"{r['n_rated']}/{r['n_items']}",
                        )
                    )
            elif suite == "loss":
                rows.append((suite, bench, "loss", _fmt(r["loss"]), str(r["n_items"])))
    return rows


def results_table(doc: dict) -> Any:
    """A ``rich.table.Table`` of the headline numbers, titled with the model."""
    from rich.table import Table

    target = doc.get("target", {})
    table = Table(title=f"evaluation of {target.get('model', target.get('name', '?'))}")
    for col in ("suite", "benchmark", "metric", "value", "n"):
        table.add_column(col, justify="right" if col in ("value", "n") else "left")
    for row in result_rows(doc):
        table.add_row(*row)
    judge = doc.get("provenance", {}).get("chat", {}).get("judge")
    if judge:
        table.caption = f"judge: {judge.get('model')} ({judge.get('kind')})"
    return table
