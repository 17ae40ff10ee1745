"""What the indicators of one scoring run share, owned by the runner that runs them.

The local runner makes one :class:`RunState` per run and passes it to every indicator's
``setup``; a Ray actor makes one per actor. Nothing here is module-level, so nothing outlives
the run: two runs (or two pools) never see each other's models or memoised values.

- **Models** are loaded once per run and shared by the indicators naming the same model
  (``perplexity`` and ``ifd``; ``input_length`` and ``output_length``'s tokenizer), keyed by
  the model's *content* fingerprint, not its name: weights re-trained into the same folder are
  loaded afresh.
- **Memos** are bounded key -> value stores for work two indicators share (the NLL forward
  passes of ``perplexity`` and ``ifd``, :mod:`instructmine.indicators.causal`).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from instructmine.fingerprint import model_fingerprint


class Memo:
    """A bounded least-recently-used store (memory does not grow with the pool)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._data

    def __len__(self) -> int:
        return len(self._data)

    def get(self, key: Hashable) -> Any:
        """The value stored for ``key`` (marked recently used), or None."""
        if key not in self._data:
            return None
        self._data.move_to_end(key)
        return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:
        """Store ``value``; the least recently used entries go beyond ``size``."""
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


def _load(kind: str, name: str) -> Any:
    from instructmine import models

    if kind == "tokenizer":
        return models.load_tokenizer(name)
    if kind == "sentence_encoder":
        return models.load_sentence_encoder(name)
    if kind == "causal_lm":
        model, tok = models.load_causal_for_inference(name)
    else:
        loader = {
            "seq2seq_lm": models.load_seq2seq_lm,
            "sequence_classifier": models.load_sequence_classifier,
        }[kind]
        model, tok = loader(name)
    model.eval()
    return model, tok


class RunState:
    """Models and memos shared by the indicators of one run (see the module docstring)."""

    def __init__(self, loader: Callable[[str, str], Any] = _load) -> None:
        self._loader = loader
        self._models: dict[tuple[str, str], Any] = {}
        self._memos: dict[str, Memo] = {}
        self.loads = 0  # how many models were actually loaded (for tests and reports)

    def _get(self, kind: str, name: str) -> Any:
        key = (kind, model_fingerprint(name) or name)
        if key not in self._models:
            self._models[key] = self._loader(kind, name)
            self.loads += 1
        return self._models[key]

    def tokenizer(self, name: str) -> Any:
        """A tokenizer by alias, local folder or hub id."""
        return self._get("tokenizer", name)

    def causal_lm(self, name: str) -> tuple[Any, Any]:
        """``(model, tokenizer)`` of a causal LM (a training run folder works too), eval mode."""
        return self._get("causal_lm", name)

    def seq2seq_lm(self, name: str) -> tuple[Any, Any]:
        """``(model, tokenizer)`` of an encoder-decoder LM, eval mode."""
        return self._get("seq2seq_lm", name)

    def sequence_classifier(self, name: str) -> tuple[Any, Any]:
        """``(model, tokenizer)`` of a sequence-classification model, eval mode."""
        return self._get("sequence_classifier", name)

    def sentence_encoder(self, name: str) -> Any:
        """A sentence-transformers encoder."""
        return self._get("sentence_encoder", name)

    def memo(self, name: str, size: int = 65536) -> Memo:
        """The run's memo called ``name`` (created on first use)."""
        if name not in self._memos:
            self._memos[name] = Memo(size)
        return self._memos[name]
