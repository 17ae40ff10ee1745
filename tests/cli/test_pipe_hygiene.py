"""Piped output stays readable: rules at most 100 columns, no third-party progress bars
unless ``-v``. Real subprocesses whose stdout and stderr are pipes (not terminals)."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from shared_paths import FIXTURES, REPO

SRC = REPO / "src"

# A unit of work that, like transformers' GGUF loader or lm-eval, draws a tqdm bar and logs
# through transformers' own bar helper while the verb runs.
UNIT = """
def unit(inp):
    from tqdm.auto import tqdm

    for _ in tqdm(range(3), desc="Converting and de-quantizing GGUF tensors..."):
        pass
    return {"chat": 1.0, "code": 0.0, "nlp": 0.0}
"""


def _piped(args, extra_path=None, env=None):
    path = os.pathsep.join([str(SRC), *([str(extra_path)] if extra_path else [])])
    base = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "TQDM_DISABLE")}
    return subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *map(str, args)],
        capture_output=True,  # stdout and stderr are pipes, not terminals
        text=True,
        env={**base, "PYTHONPATH": path, "MPLBACKEND": "Agg", **(env or {})},
        timeout=300,
    )


def test_section_rules_stay_narrow_when_piped():
    code = (
        "from instructmine.cli.output import unwrap_when_piped; unwrap_when_piped()\n"
        "from rich.console import Console\n"
        "from instructmine.progress import section\n"
        "c = Console(); print(c.width); section(c, 'Step 1'); section(Console(stderr=True))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(SRC)},
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    width, rule = r.stdout.splitlines()[:2]
    assert int(width) > 1000  # the piped console is widened, so tables never wrap ...
    assert "Step 1" in rule and 50 < len(rule) <= 100  # ... but a rule is not
    assert 50 < len(r.stderr.rstrip("\n")) <= 100


def test_no_source_draws_a_console_wide_rule():
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if ".rule(" in p.read_text(encoding="utf-8")
    ]
    assert offenders == [], "use instructmine.progress.section (at most 100 columns)"


def test_third_party_bars_only_with_verbose(tmp_path):
    from instructmine.io import ingest

    (tmp_path / "bar_unit.py").write_text(UNIT)
    components = {}
    for name, cat, file in (("A", "chat", "alpaca_5000.json"),
                            ("C", "code", "code_alpaca_2k.json.gz")):  # fmt: skip
        ingest([FIXTURES / file], tmp_path / f"{name}.parquet")
        components[name] = {"pool": str(tmp_path / f"{name}.parquet"), "category": cat}
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        yaml.safe_dump(
            {
                "out": "out",
                "per_type": 4,
                "seeds": [0],
                "components": components,
                "unit": "bar_unit:unit",
                "include_none": False,
            }  # fmt: skip
        )
    )
    quiet = _piped(["mix", "grid", grid, "--run"], extra_path=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert "GGUF" not in quiet.stderr + quiet.stdout and "it/s" not in quiet.stderr
    assert max(len(line) for line in (quiet.stdout + quiet.stderr).splitlines()) <= 300
    (tmp_path / "out").rename(tmp_path / "out1")
    loud = _piped(["-v", "mix", "grid", grid, "--run"], extra_path=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "Converting and de-quantizing GGUF tensors" in loud.stderr  # -v shows them
