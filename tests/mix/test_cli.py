"""``instructmine mix build / grid / optimise`` as real subprocesses over real pools."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

SRC = Path(__file__).resolve().parents[2] / "src"
UNIT = '''
def unit(inp):
    """A stand-in unit: each skill is the share of its own category (a known surface)."""
    from instructmine.io.pool import read_pool

    n = 0 if inp.pool is None else read_pool(inp.pool).num_rows
    r = inp.mixture.fractions(sorted(inp.categories))
    return {"chat": r["A"] + 0.5 * r["C"], "code": r["C"], "nlp": r["P"] - 0.3 * r["A"], "n": n}
'''


def cli(*args, extra_path=None):
    path = os.pathsep.join([str(SRC), *([str(extra_path)] if extra_path else [])])
    env = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": path, "MPLBACKEND": "Agg"}
    code = "from instructmine.cli import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_build_and_its_errors(tmp_path, pools):
    spec = tmp_path / "mix.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "seed": 1,
                "total": 40,
                "components": {
                    "chat": {"pool": str(pools["alpaca"]), "category": "chat", "weight": 2},
                    "code": {"pool": str(pools["codealpaca"]), "category": "code", "weight": 1},
                    "nlp": {"pool": str(pools["p3"]), "category": "nlp", "weight": 1},
                },
            }
        )
    )
    r = cli("mix", "build", spec, "-o", tmp_path / "m.parquet")
    assert r.returncode == 0, r.stderr
    assert "40 records: chat 20 (chat), code 10 (code), nlp 10 (nlp)" in r.stdout
    doc = json.loads((tmp_path / "m.mix.json").read_text())
    assert {k: len(v) for k, v in doc["ids"].items()} == {"chat": 20, "code": 10, "nlp": 10}
    spec.write_text(spec.read_text().replace("total: 40", "total: 400"))
    r = cli("mix", "build", spec, "-o", tmp_path / "m2.parquet")
    assert r.returncode == 1 and "mix.yaml" in r.stderr and "replace" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "m2.parquet").exists()


def test_grid_run_resume_and_optimise(tmp_path, pools):
    (tmp_path / "myunit.py").write_text(UNIT)
    config = tmp_path / "grid.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "out": "out",
                "per_type": 6,
                "seeds": [0],
                "components": {
                    "A": {"pool": str(pools["alpaca"]), "category": "chat"},
                    "C": {"pool": str(pools["codealpaca"]), "category": "code"},
                    "P": {"pool": str(pools["p3"]), "category": "nlp"},
                },
                "sweeps": [{"component": "C", "ratios": [0.5, 2], "total": 12}],
                "unit": "myunit:unit",
            }
        )
    )
    listed = cli("mix", "grid", config)
    assert listed.returncode == 0, listed.stderr
    names = [line.split("\t")[0] for line in listed.stdout.splitlines()[:-1]]
    assert names == ["None", "A", "C", "P", "AC", "AP", "CP", "ACP", "C:rest=0.5", "C:rest=2"]
    assert not (tmp_path / "out").exists()  # listing runs nothing
    run = cli("mix", "grid", config, "--run", extra_path=tmp_path)
    assert run.returncode == 0, run.stderr
    results = tmp_path / "out" / "results.jsonl"
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    assert len(rows) == 10 == len({r["mixture"] for r in rows})
    assert {r["mixture"]: r["results"]["n"] for r in rows}["ACP"] == 18
    assert (tmp_path / "out" / "results.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summ = cli("mix", "summary", config)
    assert summ.returncode == 0, summ.stderr
    report = (tmp_path / "out" / "results.summary.md").read_text()
    body, mark = report.strip().rsplit("\n\n", 1)  # the report, then whose file it is
    assert body == summ.stdout.split("\nsummary: ")[0].strip()
    assert mark == "<!-- written by instructmine mix summary -->"
    assert "Produced by: model the unit's model; A = alpaca" in report  # which model, which data
    assert "| code helps alignment | chat | AC − A |" in report
    assert "(1) |" in report and "one seed" in report  # one seed: no error bar, said so
    alt = tmp_path / "alt.md"
    remeasured = cli("mix", "summary", config, "--measure", "code=-n", "-o", alt)
    assert remeasured.returncode == 0, remeasured.stderr
    text = alt.read_text()
    assert "skills measured as code = -n" in text and "| ACP | -18.0000 ± 0.0000 (1) |" in text
    assert alt.with_suffix(".png").exists() and "-18.0000" not in report  # grid report kept
    bad = cli("mix", "summary", config, "--measure", "code=-loss/nope", "-o", alt)
    assert bad.returncode != 0 and "has no result 'loss/nope'" in bad.stderr
    opt = cli(
        "mix",
        "optimise",
        results,
        "--weights",
        "code=1,chat=1",
        "--bootstrap",
        "20",
        "--no-plot",
        "--grid",
        config,
        "--total",
        10,
    )
    assert opt.returncode == 0, opt.stderr
    proposal = json.loads((tmp_path / "out" / "results.proposal.json").read_text())
    # chat + code = A + 1.5 C on the simplex: all C is best
    assert proposal["ratio"]["C"] > 0.95
    built = cli(
        "mix", "build", results.with_name("results.proposal.yaml"), "-o", tmp_path / "p.parquet"
    )
    assert built.returncode == 0, built.stderr
    assert "10 records: C 10 (code)" in built.stdout
    assert proposal["rows"] == 9  # None is left out of the fit
    args = ["mix", "optimise", results, "--weights", "code=1,chat=1", "--bootstrap", "20"]
    ran = cli(*args, "--no-plot", "--grid", config, "--total", 10, "--run", extra_path=tmp_path)
    assert ran.returncode == 0, ran.stderr
    doc = json.loads((tmp_path / "out" / "results.proposal.json").read_text())
    assert doc["run"]["mixture"] == "proposal:C=10"
    measured = doc["run"]["measured"]
    assert measured["code"] == {"mean": 1.0, "sd": None, "n": 1}  # all code: the surface's 1
    assert abs(measured["chat"]["mean"] - 0.5) < 1e-9
    assert f"code: predicted {doc['predicted']['code']:.4f}, measured 1.0000" in ran.stdout
    lines = results.read_text().splitlines()
    assert json.loads(lines[-1])["mixture"] == "proposal:C=10" and len(lines) == 11
    again = cli(*args, "--no-plot", "--grid", config, "--total", 10, "--run", extra_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert len(results.read_text().splitlines()) == 11  # the proposal's seed is not re-run
    assert json.loads((tmp_path / "out" / "results.proposal.json").read_text())["rows"] == 9
    no_grid = cli(*args, "--no-plot", "--run")
    assert no_grid.returncode == 2 and "--run needs --grid" in no_grid.stderr
