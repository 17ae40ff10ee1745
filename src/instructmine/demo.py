"""The offline demo: every stage built so far, run on the bundled sample data."""

from pathlib import Path


def run_demo(out: Path) -> None:
    """Run the demo pipeline, writing every stage's output under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    raise NotImplementedError("the demo is wired once ingestion lands")
