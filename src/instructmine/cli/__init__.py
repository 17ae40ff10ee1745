"""Command-line interface: one module per verb; commands only parse and call library code.

Verb modules import only typer at module level, so ``instructmine --help`` stays instant.
"""

import importlib

from instructmine.cli.app import app

# Each module registers its command(s) on ``app`` when imported.
VERBS = ("demo", "ingest", "inspect", "export", "dedup", "score", "indicators", "eval", "train")

for _verb in VERBS:
    importlib.import_module(f"instructmine.cli.{_verb}")


def main() -> None:
    """Entry point of the ``instructmine`` console script."""
    app()
