"""Real pools for mixture tests: three small fixtures (chat, code, NLP) ingested once."""

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SOURCES = {
    "alpaca": "alpaca_5000.json",
    "codealpaca": "code_alpaca_2k.json.gz",
    "p3": "p3_ag_news.jsonl.gz",
}


@pytest.fixture(scope="session")
def pools(tmp_path_factory) -> dict[str, Path]:
    """Pools of 30 real records each: alpaca (chat), codealpaca (code), p3 (nlp)."""
    from instructmine.io.ingest import ingest

    folder = tmp_path_factory.mktemp("pools")
    out = {}
    for name, file in SOURCES.items():
        out[name] = folder / f"{name}.parquet"
        ingest([FIXTURES / file], out[name])
    return out
