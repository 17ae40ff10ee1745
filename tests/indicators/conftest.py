"""Tiny randomly initialised models of every class the indicators load, and a small real pool."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers_indicators import EDGE_CASES, alpaca_records, write_pool


@pytest.fixture(scope="session")
def contract_records() -> list[dict]:
    """Real records plus the edge cases every indicator must handle."""
    return alpaca_records(10) + EDGE_CASES


@pytest.fixture(scope="session")
def contract_pool(tmp_path_factory, contract_records) -> Path:
    """The contract records as a pool file."""
    return write_pool(tmp_path_factory.mktemp("pool") / "pool.parquet", contract_records)


@pytest.fixture(scope="session")
def tiny_t5_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A tiny random T5ForConditionalGeneration (UniEval's class) with the tiny tokenizer."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    cfg = T5Config(
        vocab_size=len(tiny_tokenizer),
        d_model=32,
        d_kv=8,
        d_ff=64,
        num_layers=2,
        num_decoder_layers=2,
        num_heads=4,
        pad_token_id=tiny_tokenizer.pad_token_id,
        eos_token_id=tiny_tokenizer.eos_token_id,
        decoder_start_token_id=tiny_tokenizer.pad_token_id,
    )
    out = tmp_path_factory.mktemp("tiny_t5")
    T5ForConditionalGeneration(cfg).save_pretrained(out)
    tiny_tokenizer.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_llama_rm_dir(tmp_path_factory, tiny_tokenizer) -> Path:
    """A tiny random LlamaForSequenceClassification reward model (one logit)."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(1)
    cfg = LlamaConfig(
        vocab_size=len(tiny_tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        num_labels=1,
        pad_token_id=tiny_tokenizer.pad_token_id,
    )
    out = tmp_path_factory.mktemp("tiny_llama_rm")
    LlamaForSequenceClassification(cfg).save_pretrained(out)
    tiny_tokenizer.save_pretrained(out)
    return out


def _bert_tokenizer(folder: Path):
    from transformers import BertTokenizerFast

    words = sorted(
        {
            w.lower()
            for r in alpaca_records(30)
            for m in r["messages"]
            for w in m["content"].replace("\n", " ").split()
        }
    )[:400]
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [chr(c) for c in range(33, 127)]
    vocab = list(dict.fromkeys(specials + chars + [f"##{c}" for c in chars] + words))
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)


@pytest.fixture(scope="session")
def tiny_bert_rm_dir(tmp_path_factory) -> Path:
    """A tiny random BertForSequenceClassification with a WordPiece tokenizer (pair inputs)."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    out = tmp_path_factory.mktemp("tiny_bert_rm")
    tok = _bert_tokenizer(out)
    torch.manual_seed(2)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=1,
    )
    BertForSequenceClassification(cfg).save_pretrained(out)
    tok.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_st_dir(tmp_path_factory) -> Path:
    """A tiny random BertModel saved as a sentence-transformers folder (mean pooling + L2)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules
    from transformers import BertConfig, BertModel

    bert = tmp_path_factory.mktemp("tiny_bert")
    tok = _bert_tokenizer(bert)
    torch.manual_seed(3)
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(cfg).save_pretrained(bert)
    tok.save_pretrained(bert)
    word = modules.Transformer(str(bert), max_seq_length=128)
    pool = modules.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(modules=[word, pool, modules.Normalize()], device="cpu")
    out = tmp_path_factory.mktemp("tiny_st")
    st.save(str(out))
    return out


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run faster on one thread (no OpenMP spin-waits on a shared 2-core machine)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def count_nll(monkeypatch):
    """Count the conversations whose NLL is really computed (not served from a memo)."""
    import instructmine.nll as nll

    real = nll.conversation_nll
    calls: list[int] = []

    def counting(model, tok, convs, **kw):
        calls.append(len(convs))
        return real(model, tok, convs, **kw)

    monkeypatch.setattr(nll, "conversation_nll", counting)
    return calls
