"""The eval side of the audit, held in memory: n-gram and whole-prompt dictionaries, a MinHash
LSH of the eval prompts (with their exact shingle sets, to verify candidates) and, optionally,
a faiss index of their embeddings. Pool records are matched against it one batch at a time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from instructmine.decontaminate.config import DecontaminateConfig
from instructmine.dedup import normalise, shingles
from instructmine.io.errors import PoolError
from instructmine.io.pool import iter_pool, require_records

_WORD = re.compile(r"\w+")

PROMPT, REFERENCE = 0, 1
FIELDS = ("prompt", "reference")


def words(text: str) -> list[str]:
    """Normalised words of ``text`` (NFKC, lower case, punctuation dropped)."""
    return _WORD.findall(normalise(text))


def ngrams(ws: list[str], n: int) -> set[str]:
    """Every word n-gram of ``ws`` (none when it is shorter than n)."""
    return {" ".join(ws[i : i + n]) for i in range(len(ws) - n + 1)}


def turns(messages: list[dict]) -> tuple[list[str], list[str]]:
    """(user turns, assistant turns) of a conversation: the units an eval item is matched by
    (a two-turn MT-Bench question is contaminated by either of its questions)."""
    users = [m["content"] for m in messages if m["role"] == "user" and m["content"]]
    answers = [m["content"] for m in messages if m["role"] == "assistant" and m["content"]]
    return users, answers


@dataclass(frozen=True)
class EvalItem:
    """One eval record: which file, its id, and its first question (for the report)."""

    file: str
    id: str
    prompt: str


class EvalIndex:
    """Everything the audit needs from the eval sets, built once before the pool is streamed."""

    def __init__(self, against: list[Path | str], cfg: DecontaminateConfig) -> None:
        self.cfg = cfg
        self.items: list[EvalItem] = []
        self.grams: dict[str, int | list[int]] = {}  # n-gram -> item*2+field (list: several)
        self.whole: dict[str, list[int]] = {}  # short question's words -> items
        self.units: list[tuple[int, str]] = []  # (item, user turn): near and embedding levels
        self.short = 0
        self.lsh = None
        self.shingle_sets: list[frozenset[bytes]] = []  # per unit
        self.faiss = None
        self.encoder = None
        self._template = None
        if not against:
            raise PoolError("no eval set given: pass at least one --against EVAL pool file")
        for path in against:
            self._add_file(path)
        if cfg.near:
            self._build_lsh()
        if cfg.embed:
            self._build_embeddings()

    def _add_gram(self, gram: str, code: int) -> None:
        have = self.grams.setdefault(gram, code)
        if have == code:
            return
        if isinstance(have, int):
            self.grams[gram] = [have, code]
        elif code not in have:
            have.append(code)

    def _add_file(self, path: Path | str) -> None:
        require_records(path, "check the pool against")
        n = self.cfg.ngram
        for batch in iter_pool(path, columns=["id", "messages"]):
            for rid, msgs in zip(
                batch.column("id").to_pylist(), batch.column("messages").to_pylist(), strict=True
            ):
                users, answers = turns(msgs)
                if not users:
                    raise PoolError(
                        f"{path}: eval record {rid!r} has no user turn, so nothing to match; "
                        "drop it, or re-create the eval pool with `instructmine ingest`"
                    )
                idx = len(self.items)
                self.items.append(EvalItem(str(path), rid, users[0]))
                short = False
                for text in users:
                    ws = words(text)
                    self.units.append((idx, text))
                    if 0 < len(ws) < n:
                        short = True
                        self.whole.setdefault(" ".join(ws), []).append(idx)
                    for g in ngrams(ws, n):
                        self._add_gram(g, idx * 2 + PROMPT)
                self.short += short
                for ref in answers if self.cfg.match_reference else ():
                    for g in ngrams(words(ref), n):
                        self._add_gram(g, idx * 2 + REFERENCE)

    def minhash(self, shingle_set: set[bytes]) -> Any:
        """MinHash signature of a shingle set (permutations made once, shared)."""
        from datasketch import MinHash

        if self._template is None:
            self._template = MinHash(num_perm=self.cfg.num_perm, seed=self.cfg.seed)
        mh = MinHash(
            num_perm=self.cfg.num_perm,
            seed=self.cfg.seed,
            permutations=self._template.permutations,
            scheme=self._template.scheme,
        )
        mh.update_batch(list(shingle_set))
        return mh

    def prompt_shingles(self, prompt: str) -> set[bytes]:
        """Word shingles of a normalised prompt (the near-duplicate level's sets)."""
        return shingles(" ".join(words(prompt)), self.cfg.near_ngram)

    def _build_lsh(self) -> None:
        from datasketch import LeanMinHash, MinHashLSH

        self.lsh = MinHashLSH(threshold=self.cfg.near_threshold, num_perm=self.cfg.num_perm)
        for unit, (_, text) in enumerate(self.units):
            sh = self.prompt_shingles(text)
            self.shingle_sets.append(frozenset(sh))
            if sh != {b""}:  # a turn of punctuation only has no words to match
                self.lsh.insert(unit, LeanMinHash(self.minhash(sh)))

    def encode(self, texts: list[str]) -> Any:
        """Unit-length float32 embeddings of ``texts``."""
        import numpy as np

        vecs = self.encoder.encode(
            texts, batch_size=self.cfg.embed_batch, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _build_embeddings(self) -> None:
        import faiss

        from instructmine.models import load_sentence_encoder

        self.encoder = load_sentence_encoder(self.cfg.embed_model)
        vecs = self.encode([text for _, text in self.units])
        self.faiss = faiss.IndexFlatIP(vecs.shape[1])
        self.faiss.add(vecs)

    def codes(self, gram: str) -> list[int]:
        """Eval item codes (item*2+field) holding ``gram``."""
        have = self.grams[gram]
        return [have] if isinstance(have, int) else have
