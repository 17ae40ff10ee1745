"""Command-line interface: one module per verb; commands only parse and call library code.

Verb modules import only typer at module level, so ``instructmine --help`` stays instant.
"""

import importlib
import os

from instructmine.cli.app import app

# With default OpenMP spinning, torch slows 4-7x when another process shares the cores
# (measured here: docs/evaluation.md); a user setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Each module registers its command(s) on ``app`` when imported.
VERBS = (
    "demo",
    "ingest",
    "inspect",
    "export",
    "dedup",
    "decontaminate",
    "score",
    "indicators",
    "eval",
    "train",
    "select",
    "select_compare",
    "search_size",
    "mix",
    "experiments",
    "rule",
    "compare",
)

for _verb in VERBS:
    importlib.import_module(f"instructmine.cli.{_verb}")


def main() -> None:
    """Entry point of the ``instructmine`` console script."""
    from instructmine.cli.output import unwrap_when_piped

    unwrap_when_piped()
    app()
