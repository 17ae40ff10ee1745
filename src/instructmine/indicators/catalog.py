"""A description of every registered indicator, for ``instructmine indicators`` and reports."""

from __future__ import annotations

from typing import Any

from instructmine.indicators.registry import DEFAULT_INDICATORS, create, registered


def catalog() -> list[dict[str, Any]]:
    """One entry per indicator with its default parameters (no model is loaded)."""
    rows = []
    for name, cls in sorted(registered().items()):
        shown = "knn_6" if name == "knn" else name
        ind = create(shown)
        if ind.model_name is None and ind.paper_model is not None:
            status = "no default: a model must be given"
        elif ind.paper_model is None:
            status = "" if ind.model_name is None else "not a paper indicator"
        elif ind.is_substitute:
            status = "offline substitute"
        else:
            status = "paper model"
        rows.append(
            {
                "name": "knn_<k>" if name == "knn" else name,
                "kind": cls.kind,
                "description": cls.description,
                "columns": ["knn_<k>"] if name == "knn" else list(ind.columns),
                "model": ind.model_name,
                "model_status": status,
                "paper_model": ind.paper_model,
                "params": ind.params.model_dump(mode="json"),
                "note": ind.note,
                "default": shown in DEFAULT_INDICATORS,
            }
        )
    return rows


def catalog_table(rows: list[dict[str, Any]]) -> Any:
    """The catalog as a rich table (the default set marked ``*``)."""
    from rich.table import Table

    table = Table(title="Indicators (default set marked *)", show_lines=True)
    for col in ("name", "columns", "model", "paper model", "params", "note"):
        table.add_column(col, overflow="fold")
    for r in rows:
        params = ", ".join(f"{k}={v!r}" for k, v in r["params"].items())
        model = r["model"] or "-"
        if r["model_status"]:
            model += f"\n({r['model_status']})"
        table.add_row(
            r["name"] + (" *" if r["default"] else ""),
            ", ".join(r["columns"]),
            model,
            r["paper_model"] or "-",
            params,
            r["note"],
        )
    return table
