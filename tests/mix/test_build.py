"""Mixture specs and builds over real pools: counts, determinism, manifests, repeats, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from instructmine.io.pool import pool_ids, read_pool
from instructmine.mix.build import build_mixture, manifest_path
from instructmine.mix.spec import MixSpecError, load_spec, resolve_counts


def write_spec(folder: Path, pools: dict, **top) -> Path:
    comps = top.pop("components")
    spec = {"components": {n: {"pool": str(pools[p]), **c} for n, (p, c) in comps.items()}, **top}
    path = folder / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_counts_resolve_exactly_from_weights_ratios_fractions(tmp_path, pools):
    spec = load_spec(
        write_spec(
            tmp_path,
            pools,
            total=50,
            components={
                "chat": ("alpaca", {"category": "chat", "weight": 1}),
                "code": ("codealpaca", {"category": "code", "ratio": {"to": "chat", "value": 1.5}}),
                "nlp": ("p3", {"category": "nlp", "count": 10}),
            },
        )
    )
    assert resolve_counts(spec) == {"chat": 16, "code": 24, "nlp": 10}


def test_build_is_deterministic_with_exact_counts_and_manifest(tmp_path, pools):
    spec = write_spec(
        tmp_path,
        pools,
        seed=7,
        total=45,
        components={
            "chat": ("alpaca", {"category": "chat", "fraction": 0.4}),
            "code": ("codealpaca", {"category": "code", "fraction": 0.4}),
            "nlp": ("p3", {"category": "nlp", "fraction": 0.2}),
        },
    )
    a = build_mixture(spec, tmp_path / "a.parquet")
    b = build_mixture(spec, tmp_path / "b.parquet")
    assert a.counts == {"chat": 18, "code": 18, "nlp": 9}
    assert a.ids == b.ids
    table = read_pool(tmp_path / "a.parquet")
    assert table.num_rows == 45
    ids = table.column("id").to_pylist()
    assert ids == a.ids["chat"] + a.ids["code"] + a.ids["nlp"]
    # each component's ids come from its own pool, without repeats
    for name, pool in (("chat", "alpaca"), ("code", "codealpaca"), ("nlp", "p3")):
        assert set(a.ids[name]) <= set(pool_ids(pools[pool]).to_pylist())
        assert len(set(a.ids[name])) == len(a.ids[name])
    doc = json.loads(manifest_path(tmp_path / "a.parquet").read_text())
    assert doc["ids"] == a.ids
    assert doc["stage"]["name"] == "mix"
    assert set(doc["stage"]["inputs"]) == {"pool:chat", "pool:code", "pool:nlp"}
    # another seed draws other ids; the same build again is skipped
    spec2 = spec.read_text().replace("seed: 7", "seed: 8")
    (tmp_path / "s2.yaml").write_text(spec2)
    assert build_mixture(tmp_path / "s2.yaml", tmp_path / "c.parquet").ids != a.ids
    assert build_mixture(spec, tmp_path / "a.parquet").skipped


def test_same_ids_in_a_fresh_process(tmp_path, pools):
    spec = write_spec(
        tmp_path,
        pools,
        seed=3,
        components={
            "chat": ("alpaca", {"category": "chat", "count": 12}),
            "code": ("codealpaca", {"category": "code", "count": 5}),
        },
    )
    here = build_mixture(spec, tmp_path / "here.parquet")
    code = (
        "import json,sys; from instructmine.mix.build import build_mixture; "
        "print(json.dumps(build_mixture(sys.argv[1], sys.argv[2]).ids))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(spec), str(tmp_path / "there.parquet")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == here.ids


@pytest.mark.parametrize("mode", ["upsample", True])
def test_upsampled_records_get_distinct_ids_pointing_back(tmp_path, pools, mode):
    spec = write_spec(
        tmp_path,
        pools,
        replace=mode,
        components={"chat": ("alpaca", {"category": "chat", "count": 75})},
    )
    s = build_mixture(spec, tmp_path / "up.parquet")
    table = read_pool(tmp_path / "up.parquet")
    ids = table.column("id").to_pylist()
    assert len(ids) == 75 == len(set(ids))
    originals = set(pool_ids(pools["alpaca"]).to_pylist())
    repeats = 0
    for rid, meta in zip(ids, table.column("meta").to_pylist(), strict=True):
        if rid in originals:
            continue
        repeats += 1
        back = json.loads(meta)["mix_repeat_of"]
        assert back in originals and rid.startswith(back + "~r")
    assert repeats == s.repeats["chat"] == 75 - len(set(ids) & originals)
    if mode == "upsample":  # whole passes first: every record at least twice
        assert len(set(ids) & originals) == 30 and repeats == 45


def test_too_many_without_replacement_names_spec_and_fix(tmp_path, pools):
    spec = write_spec(
        tmp_path, pools, components={"chat": ("alpaca", {"category": "chat", "count": 31})}
    )
    with pytest.raises(MixSpecError, match=r"spec\.yaml.*31 records.*has 30.*replace"):
        build_mixture(spec, tmp_path / "x.parquet")
    assert not (tmp_path / "x.parquet").exists()


def test_fractions_not_adding_up(tmp_path, pools):
    spec = write_spec(
        tmp_path,
        pools,
        total=20,
        components={
            "chat": ("alpaca", {"category": "chat", "fraction": 0.5}),
            "code": ("codealpaca", {"category": "code", "fraction": 0.3}),
        },
    )
    with pytest.raises(MixSpecError, match=r"spec\.yaml.*do not add up.*0\.8.*weight"):
        build_mixture(spec, tmp_path / "x.parquet")


def test_unknown_component_in_ratio_and_unknown_keys(tmp_path, pools):
    spec = write_spec(
        tmp_path,
        pools,
        total=20,
        components={
            "chat": ("alpaca", {"category": "chat", "weight": 1}),
            "code": ("codealpaca", {"category": "code", "ratio": {"to": "chatt", "value": 2}}),
        },
    )
    with pytest.raises(MixSpecError, match=r"spec\.yaml.*'chatt'.*not a component.*ratio\.to"):
        build_mixture(spec, tmp_path / "x.parquet")
    bad = write_spec(
        tmp_path, pools, components={"chat": ("alpaca", {"category": "chat", "cuont": 3})}
    )
    with pytest.raises(MixSpecError, match=r"spec\.yaml.*cuont"):
        load_spec(bad)
