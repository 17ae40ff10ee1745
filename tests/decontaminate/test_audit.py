"""A planted eval item is found at each level of the audit; clean records are not flagged."""

from __future__ import annotations

import orjson
import pyarrow.parquet as pq
import pytest

from instructmine.decontaminate import DecontaminateConfig, decontaminate_pool, output_paths
from instructmine.io.errors import PoolError
from instructmine.schema import table_from_records

LONG_EVAL = (
    "Write a detailed travel itinerary for a three day trip to Lisbon that includes "
    "museums, food markets and a day trip to Sintra for a family with two children."
)
SHORT_EVAL = "What is the capital of Mongolia?"
NEAR_EVAL = "Explain how photosynthesis turns sunlight and water into sugar in leaves."
EMBED_EVAL = "How can I improve my sleep quality at night?"

CLEAN = [
    ("Give three tips for staying healthy.", "Eat well, sleep, exercise."),
    ("Translate 'good morning' into French.", "Bonjour."),
    ("Sort these numbers: 3 1 2.", "1 2 3"),
    ("Name a famous painting by Vermeer.", "Girl with a Pearl Earring."),
]


def _rec(rid: str, prompt: str, response: str | None) -> dict:
    msgs = [{"role": "user", "content": prompt}]
    if response is not None:
        msgs.append({"role": "assistant", "content": response})
    return {"id": rid, "source": "t", "messages": msgs}


def _write(path, records):
    pq.write_table(table_from_records(records), path)
    return path


@pytest.fixture
def files(tmp_path):
    ev = _write(
        tmp_path / "eval.parquet",
        [
            _rec("e-long", LONG_EVAL, None),
            _rec("e-short", SHORT_EVAL, "Ulaanbaatar."),
            _rec("e-near", NEAR_EVAL, None),
            _rec("e-embed", EMBED_EVAL, None),
        ],
    )
    planted = [
        # the eval prompt's 13-grams inside a longer record (in its response)
        _rec(
            "p-long",
            "Help me plan a holiday.",
            "Sure. Here is my answer to: " + LONG_EVAL.lower() + " Day 1: Belem.",
        ),
        _rec("p-short", "what is the capital of  Mongolia", "Ulaanbaatar."),  # whole, normalised
        # a paraphrase-ish near duplicate of a short prompt: no 13-gram, not equal
        _rec("p-near", "Explain how photosynthesis turns sunlight and water into sugar.", "Light."),
    ]
    clean = [_rec(f"c{i}", p, r) for i, (p, r) in enumerate(CLEAN)]
    pool = _write(tmp_path / "pool.parquet", clean[:2] + planted + clean[2:])
    return pool, ev, tmp_path


def _hits(path):
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_planted_items_found_at_levels_1_and_2(files):
    pool, ev, tmp = files
    summary = decontaminate_pool(pool, [ev], tmp / "clean.parquet")
    hits = _hits(output_paths(tmp / "clean.parquet")[1])
    found = {(h["pool_id"], h["eval_id"], h["level"]) for h in hits}
    assert ("p-long", "e-long", "ngram") in found
    assert ("p-short", "e-short", "prompt") in found
    assert ("p-near", "e-near", "near") in found
    assert {h["pool_id"] for h in hits} == {"p-long", "p-short", "p-near"}  # clean not flagged
    near = next(h for h in hits if h["level"] == "near" and h["pool_id"] == "p-near")
    assert 0.7 <= near["evidence"]["jaccard"] < 1.0
    ngram = next(h for h in hits if h["level"] == "ngram")
    assert len(ngram["evidence"]["ngram"].split()) == 13 and ngram["evidence"]["ngram"] in (
        LONG_EVAL.lower().replace(",", "").replace(".", "")
    )
    assert all(h["eval_file"] == str(ev) and h["eval_prompt"] for h in hits)  # both sides named
    kept = pq.read_table(tmp / "clean.parquet").column("id").to_pylist()
    assert kept == ["c0", "c1", "c2", "c3"]
    assert summary.removed == 3 and summary.short_eval_prompts == 3
    assert summary.by_eval[str(ev)]["prompt"] == 1


def test_keep_hits_only_reports_and_manifest_skips_rerun(files):
    pool, ev, tmp = files
    cfg = DecontaminateConfig(keep_hits=True)
    first = decontaminate_pool(pool, [ev], tmp / "all.parquet", cfg)
    assert first.records_hit == 3 and first.removed == 0
    assert pq.read_table(tmp / "all.parquet").num_rows == 7
    manifest = orjson.loads(output_paths(tmp / "all.parquet")[2].read_bytes())
    assert manifest["stage"]["name"] == "decontaminate"
    stamp = (tmp / "all.parquet").stat().st_mtime_ns
    again = decontaminate_pool(pool, [ev], tmp / "all.parquet", cfg)
    assert again.to_dict() == first.to_dict()
    assert (tmp / "all.parquet").stat().st_mtime_ns == stamp  # skipped, not rewritten


def test_ngram_length_is_configurable_and_short_prompts_follow_it(files):
    pool, ev, tmp = files
    s = decontaminate_pool(pool, [ev], tmp / "c.parquet", DecontaminateConfig(ngram=40, near=False))
    # every eval prompt is now shorter than 40 words: only whole-prompt matches remain
    assert s.short_eval_prompts == 4 and s.records_by_level["ngram"] == 0
    assert s.records_by_level["prompt"] == 1


def test_bad_inputs_raise_one_line_errors(files, tmp_path):
    pool, ev, tmp = files
    with pytest.raises(PoolError, match="no such pool file"):
        decontaminate_pool(pool, [tmp / "missing.parquet"], tmp / "x.parquet")
    (tmp / "notpool.parquet").write_text("hello")
    with pytest.raises(PoolError, match="not a Parquet pool file"):
        decontaminate_pool(tmp / "notpool.parquet", [ev], tmp / "x.parquet")
    with pytest.raises(PoolError, match="--against"):
        decontaminate_pool(pool, [], tmp / "x.parquet")
    assert not (tmp / "x.parquet").exists()


@pytest.mark.slow
def test_embedding_level_with_real_minilm(files):
    pool, ev, tmp = files
    para = _write(
        tmp / "para.parquet",
        [
            _rec("p-embed", "What should I do to sleep better at night?", "Keep a routine."),
            _rec("c-x", "Write a haiku about the sea.", "Waves..."),
        ],
    )
    cfg = DecontaminateConfig(embed=True, embed_threshold=0.8, near=False)
    decontaminate_pool(para, [ev], tmp / "e.parquet", cfg)
    hits = _hits(output_paths(tmp / "e.parquet")[1])
    assert [(h["pool_id"], h["eval_id"], h["level"]) for h in hits] == [
        ("p-embed", "e-embed", "embedding")
    ]
    assert hits[0]["evidence"]["cosine"] >= 0.8


def test_second_turn_of_an_unanswered_two_turn_eval_item_is_matched(tmp_path):
    two_turn = [
        {"role": "user", "content": "Compose a short poem about the autumn rain in Kyoto."},
        {"role": "user", "content": "Now rewrite it as a limerick."},
    ]
    ev = _write(tmp_path / "mt.parquet", [{"id": "mt-81", "source": "mt", "messages": two_turn}])
    pool = _write(
        tmp_path / "p.parquet",
        [_rec("hit", "Now rewrite it as a limerick!", "There once..."), _rec("ok", "Hi", "Hello")],
    )
    s = decontaminate_pool(pool, [ev], tmp_path / "c.parquet")
    hits = _hits(output_paths(tmp_path / "c.parquet")[1])
    assert {(h["pool_id"], h["eval_id"], h["level"]) for h in hits} == {
        ("hit", "mt-81", "prompt"),
        ("hit", "mt-81", "near"),
    }
    assert s.kept == 1
