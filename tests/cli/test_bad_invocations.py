"""A corpus of bad invocations over every verb: each exits with the status docs/robustness.md's
table gives its class (the table is parsed from the doc, so the two cannot drift), and prints
one line of at most 300 characters on stderr, at any terminal width, with no traceback.

Argument errors (typer's own: unknown option, missing argument, a value of the wrong type)
run as real subprocesses with stderr a pipe; the rest in-process (typer's CliRunner), where a
subprocess per case would cost seconds of imports each.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from instructmine.cli import app
from shared_paths import FIXTURES, REPO

DOC = REPO / "docs" / "robustness.md"


def exit_table() -> dict[str, int]:
    """``class -> status`` from the "Exit statuses" table of docs/robustness.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Exit statuses", 1)[1].split("\n## ", 1)[0]
    table = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].isdigit():
            for name in re.findall(r"`([a-z-]+)`", cells[2]):
                table[name] = int(cells[0])
    return table


# (id, argv, class). {w} is the workspace folder (see the ``ws`` fixture).
USAGE = [
    ("root-unknown-verb", ["nope"], "usage"),
    ("root-unknown-option", ["--bogus", "inspect"], "usage"),
    ("ingest-no-args", ["ingest"], "usage"),
    ("ingest-no-out", ["ingest", "{w}/ok.json"], "usage"),
    (
        "ingest-mb-not-a-number",
        ["ingest", "{w}/ok.json", "-o", "{w}/x.parquet", "--max-record-mb", "abc"],
        "usage",
    ),  # fmt: skip
    ("inspect-no-args", ["inspect"], "usage"),
    ("inspect-samples-negative", ["inspect", "{w}/pool.parquet", "--samples", "-1"], "usage"),
    (
        "export-format-nope",
        ["export", "{w}/pool.parquet", "-o", "{w}/x.json", "--format", "nope"],
        "usage",
    ),  # fmt: skip
    ("export-no-out", ["export", "{w}/pool.parquet"], "usage"),
    (
        "dedup-threshold-text",
        ["dedup", "{w}/pool.parquet", "-o", "{w}/d.parquet", "--threshold", "abc"],
        "usage",
    ),  # fmt: skip
    ("score-no-args", ["score"], "usage"),
    ("score-unknown-option", ["score", "{w}/pool.parquet", "-o", "{w}/s", "--bogus"], "usage"),
    ("score-window-zero", ["score", "{w}/pool.parquet", "-o", "{w}/s", "--window", "0"], "usage"),
    (
        "score-runner-nope",
        ["score", "{w}/pool.parquet", "-o", "{w}/s", "--runner", "slurm"],
        "usage",
    ),  # fmt: skip
    ("indicators-unknown-option", ["indicators", "--bogus"], "usage"),
    ("eval-no-args", ["eval"], "usage"),
    ("eval-limit-zero", ["eval", "m", "--limit", "0"], "usage"),
    ("eval-limit-negative", ["eval", "m", "--limit=-1"], "usage"),
    ("train-no-data", ["train", "-o", "{w}/run"], "usage"),
    ("train-no-out", ["train", "--data", "{w}/pool.parquet"], "usage"),
    (
        "select-top-text",
        ["select", "{w}/ranked.parquet", "-o", "{w}/s.parquet", "--top", "abc"],
        "usage",
    ),  # fmt: skip
    ("select-no-out", ["select", "{w}/ranked.parquet"], "usage"),
    ("select-compare-no-args", ["select-compare"], "usage"),
    ("search-size-no-args", ["search-size"], "usage"),
    ("search-size-extra-arg", ["search-size", "a.yaml", "b.yaml"], "usage"),
    ("mix-unknown-verb", ["mix", "nope"], "usage"),
    ("mix-build-no-out", ["mix", "build", "{w}/mix.yaml"], "usage"),
    ("mix-grid-no-args", ["mix", "grid"], "usage"),
    ("mix-summary-no-args", ["mix", "summary"], "usage"),
    ("mix-optimise-no-weights", ["mix", "optimise", "{w}/results.jsonl"], "usage"),
    ("experiments-run-no-args", ["experiments", "run"], "usage"),
    ("experiments-aggregate-no-args", ["experiments", "aggregate"], "usage"),
    ("experiments-trunk-one-arg", ["experiments", "trunk", "{w}/pool.parquet"], "usage"),
    ("fit-no-out", ["fit", "{w}/table.jsonl"], "usage"),
    ("rank-no-rule", ["rank", "{w}/scores", "-o", "{w}/r.parquet"], "usage"),
    ("compare-n-boot-text", ["compare", "{w}/table.jsonl", "--n-boot", "x"], "usage"),
    ("rules-extra-arg", ["rules", "extra"], "usage"),
    ("demo-unknown-option", ["demo", "--bogus"], "usage"),
]

OTHER = [
    # settings: option values and config keys
    (
        "ingest-turns-fix",
        ["ingest", "{w}/ok.json", "-o", "{w}/x.parquet", "--turns", "fix"],
        "setting",
    ),  # fmt: skip
    (
        "ingest-encoding-nope",
        ["ingest", "{w}/ok.json", "-o", "{w}/x.parquet", "--encoding-errors", "nope"],
        "setting",
    ),  # fmt: skip
    (
        "ingest-mb-zero",
        ["ingest", "{w}/ok.json", "-o", "{w}/x.parquet", "--max-record-mb", "0"],
        "setting",
    ),  # fmt: skip
    (
        "ingest-format-nope",
        ["ingest", "{w}/ok.json", "-o", "{w}/x.parquet", "--format", "nope"],
        "setting",
    ),  # fmt: skip
    (
        "ingest-source-count",
        [
            "ingest",
            "{w}/ok.json",
            "{w}/bom.json",
            "-o",
            "{w}/x.parquet",
            "--source",
            "a",
            "--source",
            "b",
            "--source",
            "c",
        ],
        "setting",
    ),  # fmt: skip
    (
        "dedup-method-nope",
        ["dedup", "{w}/pool.parquet", "-o", "{w}/d.parquet", "--method", "nope"],
        "setting",
    ),  # fmt: skip
    (
        "dedup-threshold-2",
        ["dedup", "{w}/pool.parquet", "-o", "{w}/d.parquet", "--threshold", "2"],
        "setting",
    ),  # fmt: skip
    (
        "score-indicator-typo",
        ["score", "{w}/pool.parquet", "-o", "{w}/s", "-i", "perplexty"],
        "setting",
    ),  # fmt: skip
    (
        "score-param-typo",
        ["score", "{w}/pool.parquet", "-o", "{w}/s", "-i", "mtld", "--set", "mtld.treshold=0.7"],
        "setting",
    ),  # fmt: skip
    (
        "score-set-no-dot",
        ["score", "{w}/pool.parquet", "-o", "{w}/s", "--set", "mtld=1"],
        "setting",
    ),  # fmt: skip
    (
        "score-old-p-typo",
        ["score", "{w}/pool.parquet", "-o", "{w}/s", "-i", "mtld", "-p", "mtld.nope=1"],
        "setting",
    ),  # fmt: skip
    ("eval-suite-typo", ["eval", "m", "--suite", "nlp,cod"], "setting"),
    ("eval-chat-no-judge", ["eval", "m", "--suite", "chat"], "setting"),
    ("eval-preset-nope", ["eval", "m", "--preset", "fast"], "setting"),
    ("eval-set-typo", ["eval", "m", "--set", "limti=3"], "setting"),
    ("eval-config-typo", ["eval", "m", "--config", "{w}/eval_typo.yaml"], "setting"),
    (
        "train-config-typo",
        ["train", "{w}/train_typo.yaml", "--data", "{w}/pool.parquet", "-o", "{w}/run"],
        "setting",
    ),  # fmt: skip
    (
        "train-config-not-yaml",
        ["train", "{w}/not_yaml.yaml", "--data", "{w}/pool.parquet", "-o", "{w}/run"],
        "setting",
    ),  # fmt: skip
    (
        "train-set-typo",
        ["train", "--data", "{w}/pool.parquet", "-o", "{w}/run", "--set", "lora.alpah=8"],
        "setting",
    ),  # fmt: skip
    (
        "train-method-nope",
        ["train", "--data", "{w}/pool.parquet", "-o", "{w}/run", "--method", "half"],
        "setting",
    ),  # fmt: skip
    (
        "select-method-nope",
        ["select", "{w}/ranked.parquet", "-o", "{w}/s.parquet", "--method", "rulez", "--top", "3"],
        "setting",
    ),  # fmt: skip
    (
        "select-quota-bad",
        ["select", "{w}/ranked.parquet", "-o", "{w}/s.parquet", "--quota", "source", "--top", "3"],
        "setting",
    ),  # fmt: skip
    (
        "select-top-negative",
        ["select", "{w}/ranked.parquet", "-o", "{w}/s.parquet", "--top", "-1"],
        "setting",
    ),  # fmt: skip
    (
        "fit-select-nope",
        ["fit", "{w}/table.jsonl", "-o", "{w}/r.json", "--select", "aic"],
        "setting",
    ),  # fmt: skip
    ("compare-fraction-2", ["compare", "{w}/table.jsonl", "--fit-fraction", "2"], "setting"),
    (
        "mix-build-spec-typo",
        ["mix", "build", "{w}/mix_typo.yaml", "-o", "{w}/m.parquet"],
        "setting",
    ),  # fmt: skip
    (
        "mix-build-set-typo",
        ["mix", "build", "{w}/mix.yaml", "-o", "{w}/m.parquet", "--set", "sed=1"],
        "setting",
    ),  # fmt: skip
    ("mix-grid-typo", ["mix", "grid", "{w}/grid_typo.yaml"], "setting"),
    ("mix-grid-set-typo", ["mix", "grid", "{w}/grid.yaml", "--set", "per_typ=3"], "setting"),
    ("mix-summary-typo", ["mix", "summary", "{w}/grid_typo.yaml"], "setting"),
    (
        "mix-optimise-weights",
        ["mix", "optimise", "{w}/results.jsonl", "--weights", "code"],
        "setting",
    ),  # fmt: skip
    ("search-size-typo", ["search-size", "{w}/search_typo.yaml"], "setting"),
    ("search-size-set-typo", ["search-size", "{w}/search.yaml", "--set", "trails=3"], "setting"),
    ("search-size-not-yaml", ["search-size", "{w}/not_yaml.yaml"], "setting"),
    ("select-compare-typo", ["select-compare", "{w}/compare_typo.yaml"], "setting"),
    (
        "select-compare-set-typo",
        ["select-compare", "{w}/compare.yaml", "--set", "methds=[rule]"],
        "setting",
    ),  # fmt: skip
    ("experiments-run-typo", ["experiments", "run", "{w}/experiments_typo.yaml"], "setting"),
    (
        "experiments-run-set-typo",
        ["experiments", "run", "{w}/experiments.yaml", "--set", "proxy.stepz=3"],
        "setting",
    ),  # fmt: skip
    (
        "experiments-aggregate-typo",
        ["experiments", "aggregate", "{w}/experiments_typo.yaml"],
        "setting",
    ),  # fmt: skip
    (
        "experiments-trunk-set-typo",
        [
            "experiments",
            "trunk",
            "{w}/pool.parquet",
            "{w}/pool.parquet",
            "--set",
            "cached_layerz=1",
        ],
        "setting",
    ),  # fmt: skip
    # missing files
    ("inspect-missing", ["inspect", "{w}/absent.parquet"], "missing-file"),
    ("export-missing", ["export", "{w}/absent.parquet", "-o", "{w}/x.json"], "missing-file"),
    ("dedup-missing", ["dedup", "{w}/absent.parquet", "-o", "{w}/d.parquet"], "missing-file"),
    (
        "score-missing",
        ["score", "{w}/absent.parquet", "-o", "{w}/s", "-i", "mtld"],
        "missing-file",
    ),  # fmt: skip
    (
        "train-missing-data",
        ["train", "--data", "{w}/absent.parquet", "-o", "{w}/run"],
        "missing-file",
    ),  # fmt: skip
    (
        "train-missing-config",
        ["train", "{w}/absent.yaml", "--data", "{w}/pool.parquet", "-o", "{w}/run"],
        "missing-file",
    ),  # fmt: skip
    (
        "select-missing",
        ["select", "{w}/absent.parquet", "-o", "{w}/s.parquet", "--top", "3"],
        "missing-file",
    ),  # fmt: skip
    (
        "rank-missing-scores",
        ["rank", "{w}/absent", "--rule", "paper-final", "-o", "{w}/r.parquet"],
        "missing-file",
    ),  # fmt: skip
    (
        "rank-missing-rule",
        ["rank", "{w}/scores", "--rule", "{w}/absent-rule.json", "-o", "{w}/r.parquet"],
        "missing-file",
    ),  # fmt: skip
    ("fit-missing", ["fit", "{w}/absent.jsonl", "-o", "{w}/r.json"], "missing-file"),
    ("compare-missing", ["compare", "{w}/absent.jsonl"], "missing-file"),
    ("search-size-missing", ["search-size", "{w}/absent.yaml"], "missing-file"),
    ("select-compare-missing", ["select-compare", "{w}/absent.yaml"], "missing-file"),
    ("experiments-run-missing", ["experiments", "run", "{w}/absent.yaml"], "missing-file"),
    (
        "mix-build-missing-pool",
        ["mix", "build", "{w}/mix_absent_pool.yaml", "-o", "{w}/m.parquet"],
        "missing-file",
    ),  # fmt: skip
    ("mix-grid-missing", ["mix", "grid", "{w}/absent.yaml"], "missing-file"),
    (
        "mix-optimise-missing",
        ["mix", "optimise", "{w}/absent.jsonl", "--weights", "code=1"],
        "missing-file",
    ),  # fmt: skip
    # bad input, empty pools, refused outputs, failures
    ("inspect-not-a-pool", ["inspect", "{w}/ok.json"], "bad-input"),
    ("inspect-a-folder", ["inspect", "{w}/scores"], "bad-input"),
    (
        "ingest-nothing-kept",
        ["ingest", "{w}/empty_array.json", "-o", "{w}/x.parquet"],
        "bad-input",
    ),  # fmt: skip
    (
        "ingest-strict",
        ["ingest", "{w}/one_bad.jsonl", "-o", "{w}/x.parquet", "--strict"],
        "strict",
    ),  # fmt: skip
    (
        "rank-unknown-column",
        ["rank", "{w}/scores", "--rule", "{w}/fluency_rule.json", "-o", "{w}/r.parquet"],
        "bad-input",
    ),  # fmt: skip
    ("inspect-empty", ["inspect", "{w}/empty.parquet"], "empty-pool"),
    ("score-empty", ["score", "{w}/empty.parquet", "-o", "{w}/s2", "-i", "mtld"], "empty-pool"),
    ("dedup-empty", ["dedup", "{w}/empty.parquet", "-o", "{w}/d.parquet"], "empty-pool"),
    (
        "export-onto-input",
        ["export", "{w}/pool.parquet", "-o", "{w}/pool.parquet"],
        "output-path",
    ),  # fmt: skip
    ("dedup-onto-input", ["dedup", "{w}/pool.parquet", "-o", "{w}/pool.parquet"], "output-path"),
    ("eval-no-such-model", ["eval", "{w}/absent-model", "--suite", "loss"], "failed"),
    # partial input and success
    (
        "ingest-binary-among-good",
        ["ingest", "{w}/ok.json", "{w}/binary.json", "-o", "{w}/x.parquet"],
        "partial",
    ),  # fmt: skip
    ("ingest-bom-array", ["ingest", "{w}/bom.json", "-o", "{w}/bom.parquet"], "ok"),
]

UNREADABLE = [
    ("inspect-unreadable", ["inspect", "{w}/unreadable.parquet"], "unreadable-file"),
    (
        "ingest-unreadable-among-good",
        ["ingest", "{w}/ok.json", "{w}/unreadable.json", "-o", "{w}/x.parquet"],
        "partial",
    ),  # fmt: skip
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """Good and bad inputs for every verb."""
    from instructmine.io import ingest
    from instructmine.schema import SCHEMA
    from instructmine.scoring import score_pool

    w = tmp_path_factory.mktemp("bad_invocations")
    recs = json.loads((FIXTURES / "alpaca_5000.json").read_text())
    (w / "ok.json").write_text(json.dumps(recs[:12]))
    ingest([w / "ok.json"], w / "pool.parquet")
    score_pool(w / "pool.parquet", w / "scores", ["mtld"], progress=False)
    pq.write_table(SCHEMA.empty_table(), w / "empty.parquet")
    (w / "bom.json").write_bytes(b"\xef\xbb\xbf" + json.dumps(recs[:2]).encode())
    (w / "binary.json").write_bytes(bytes(range(256)) * 4)
    (w / "empty_array.json").write_text("[]")
    (w / "one_bad.jsonl").write_text(json.dumps(recs[0]) + "\n{broken\n")
    for name in ("unreadable.json", "unreadable.parquet"):
        (w / name).write_bytes((w / "pool.parquet").read_bytes())
        (w / name).chmod(0)
    t = pq.read_table(w / "pool.parquet")
    pq.write_table(pa.table({"id": t["id"], "predicted_log_loss": list(range(12))}),
                   w / "ranked.parquet")  # fmt: skip
    (w / "fluency_rule.json").write_text(json.dumps({
        "name": "f", "intercept": 0.1,
        "terms": [{"aggregate": "fluency.mean", "coef": 0.1, "mean": 0, "std": 1}],
    }))  # fmt: skip
    rows = [{"experiment_id": f"e{i}", "subset_id": f"s{i}", "seed": 0, "n_records": 9,
             "eval_loss": 2.0 + i / 10, "mtld.mean": 50.0 + i} for i in range(12)]  # fmt: skip
    (w / "table.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    pools = {n: {"pool": str(w / "pool.parquet"), "category": c} for n, c in (("A", "chat"),)}
    files = {
        "eval_typo.yaml": {"limt": 3},
        "train_typo.yaml": {"max_lenght": 48},
        "mix.yaml": {"total": 4, "components": {"A": {**pools["A"], "weight": 1}}},
        "mix_typo.yaml": {"total": 4, "components": {"A": {**pools["A"], "wieght": 1}}},
        "mix_absent_pool.yaml": {"total": 4, "components": {
            "A": {"pool": str(w / "absent.parquet"), "category": "chat", "weight": 1}}},
        "grid.yaml": {"out": "out", "per_type": 3, "components": pools},
        "grid_typo.yaml": {"out": "out", "per_typ": 3, "components": pools},
        "search.yaml": {"objective": {"factory": "x:y"}, "out": "o", "lo": 5, "hi": 10,
                        "baseline": "none"},
        "search_typo.yaml": {"objective": {"factory": "x:y"}, "out": "o", "lo": 5, "hi": 10,
                             "trails": 3},
        "compare.yaml": {"pool": str(w / "pool.parquet"), "eval": str(w / "pool.parquet"),
                         "n": 3, "out": "cmp"},
        "compare_typo.yaml": {"pool": str(w / "pool.parquet"), "eval": str(w / "pool.parquet"),
                              "n": 3, "out": "cmp", "methds": ["rule"]},
        "experiments.yaml": {"pool": str(w / "pool.parquet"), "eval": str(w / "pool.parquet"),
                             "scores": str(w / "scores"), "out": "e.jsonl", "work_dir": "work"},
        "experiments_typo.yaml": {"pool": str(w / "pool.parquet"), "eval": str(w / "pool.parquet"),
                                  "scores": str(w / "scores"), "out": "e.jsonl",
                                  "work_dir": "work", "sampling": {"n_recrds": 3}},
    }  # fmt: skip
    for name, doc in files.items():
        (w / name).write_text(yaml.safe_dump(doc))
    (w / "not_yaml.yaml").write_text("a: [1, 2\nb: {")
    (w / "results.jsonl").write_text("")
    return w


def _argv(args, w):
    return [a.replace("{w}", str(w)) for a in args]


def _check(code, stderr, cls, table, args):
    assert code == table[cls], (args, cls, code, stderr)
    if cls == "ok":
        return
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, (args, stderr)  # one line, no traceback, no box
    assert len(lines[0]) <= 300 and "Traceback" not in stderr, (args, stderr)
    assert lines[0].startswith(("error: ", "partial input: ")), (args, stderr)


def test_every_class_in_the_corpus_is_in_the_table():
    table = exit_table()
    used = {c for _, _, c in USAGE + OTHER + UNREADABLE}
    assert used <= set(table), used - set(table)
    assert table["usage"] == table["setting"] == 2 and table["partial"] == 3


@pytest.mark.parametrize("columns", ["", "12000"])
@pytest.mark.parametrize(("case", "args", "cls"), USAGE, ids=[c[0] for c in USAGE])
def test_argument_errors_as_real_subprocesses(case, args, cls, columns, ws):
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    env["PYTHONPATH"] = str(REPO / "src")
    r = subprocess.run(
        [sys.executable, "-c", "from instructmine.cli import main; main()", *_argv(args, ws)],
        capture_output=True,  # stderr is a pipe, not a terminal
        text=True,
        env=env,
        timeout=120,
    )
    _check(r.returncode, r.stderr, cls, exit_table(), args)
    assert "╭" not in r.stderr and "Usage:" not in r.stderr


@pytest.mark.parametrize(("case", "args", "cls"), OTHER, ids=[c[0] for c in OTHER])
def test_bad_invocations(case, args, cls, ws, monkeypatch):
    monkeypatch.chdir(ws)
    res = CliRunner().invoke(app, _argv(args, ws), env={"COLUMNS": "12000"})
    _check(res.exit_code, res.stderr, cls, exit_table(), args)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
@pytest.mark.parametrize(("case", "args", "cls"), UNREADABLE, ids=[c[0] for c in UNREADABLE])
def test_unreadable_inputs(case, args, cls, ws):
    res = CliRunner().invoke(app, _argv(args, ws), env={"COLUMNS": "12000"})
    _check(res.exit_code, res.stderr, cls, exit_table(), args)


def test_corpus_size():
    """The numbers docs/robustness.md reports: distinct bad invocations, and cases run (the
    argument errors at two terminal widths)."""
    assert len(USAGE) + len(OTHER) + len(UNREADABLE) == 110
    assert len(USAGE) * 2 + len(OTHER) + len(UNREADABLE) == 148


HINTS = {
    "train-config-typo": ["train_typo.yaml", "max_lenght", "did you mean max_length"],
    "train-set-typo": ["lora.alpah", "did you mean alpha"],
    "eval-config-typo": ["eval_typo.yaml", "limt", "did you mean limit"],
    "eval-set-typo": ["did you mean limit"],
    "eval-suite-typo": ["did you mean code"],
    "mix-build-spec-typo": ["mix_typo.yaml", "components.A.wieght", "did you mean weight"],
    "mix-grid-typo": ["grid_typo.yaml", "did you mean per_type"],
    "mix-grid-set-typo": ["--set", "did you mean per_type"],
    "search-size-typo": ["search_typo.yaml", "did you mean trials"],
    "search-size-set-typo": ["did you mean trials"],
    "search-size-not-yaml": ["not_yaml.yaml", "not valid YAML", "line"],
    "select-compare-typo": ["compare_typo.yaml", "did you mean methods"],
    "experiments-run-typo": ["experiments_typo.yaml", "did you mean n_records"],
    "experiments-run-set-typo": ["proxy.stepz", "did you mean steps"],
    "experiments-trunk-set-typo": ["cached_layerz", "did you mean cached_layers"],
    "score-indicator-typo": ["Did you mean 'perplexity'"],
    "score-param-typo": ["treshold", "did you mean threshold"],
    "fit-select-nope": ["--select"],
    "train-method-nope": ["method"],
    "rank-unknown-column": ["no indicator computes ['fluency']"],
    "compare-missing": ["absent.jsonl"],
}
CASES = {c[0]: c for c in OTHER}


@pytest.mark.parametrize("case", sorted(HINTS))
def test_errors_name_the_file_and_the_closest_key(case, ws, monkeypatch):
    monkeypatch.chdir(ws)
    res = CliRunner().invoke(app, _argv(CASES[case][1], ws), env={"COLUMNS": "80"})
    assert all(h in res.stderr for h in HINTS[case]), (case, res.stderr)
    assert "score -i fluency" not in res.stderr and "-i fluency" not in res.stderr


@pytest.mark.parametrize("limit", [0, -1])
def test_evaluate_validates_the_limit_it_is_given(limit, tmp_path):
    """``evaluate(limit=0)`` scored everything and ``-1`` all but the last item (the limit was
    applied with ``model_copy``, which skips validation)."""
    from pydantic import ValidationError

    from instructmine.evaluate.run import evaluate

    with pytest.raises(ValidationError, match="greater than 0"):
        evaluate(tmp_path / "no-model", ["loss"], limit, tmp_path / "r.json")
