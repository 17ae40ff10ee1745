"""Turn canonical ``messages`` into model text and token labels (loss on assistant turns only).

Two templates:

- ``"chat"``: the tokenizer's own chat template (used when it has one; ``"auto"`` picks it);
- ``"plain"``: the instruction-mixture paper's format, each user turn followed by ``"\\n\\n"``,
  then the assistant turn and the EOS token (a system turn is prepended as plain text).

Assistant spans are located in *characters* while rendering, then mapped to tokens with the
fast tokenizer's offsets, so every template (and every multi-turn chat) gets an exact mask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from instructmine.schema import Message

IGNORE_INDEX = -100
Template = Literal["auto", "chat", "plain"]


@dataclass
class Encoded:
    """Token ids of one example and its labels (``IGNORE_INDEX`` outside the supervised spans)."""

    input_ids: list[int]
    labels: list[int]


def pick_template(tokenizer: Any, template: Template = "auto") -> Literal["chat", "plain"]:
    """Resolve ``"auto"`` to ``"chat"`` when the tokenizer has a chat template, else ``"plain"``."""
    if template == "auto":
        return "chat" if getattr(tokenizer, "chat_template", None) else "plain"
    if template == "chat" and not getattr(tokenizer, "chat_template", None):
        raise ValueError("template='chat' but the tokenizer has no chat template; use 'plain'")
    return template


def _render_chat(tokenizer: Any, messages: Sequence[Message], generation_prompt: bool) -> str:
    return tokenizer.apply_chat_template(
        [dict(m) for m in messages], tokenize=False, add_generation_prompt=generation_prompt
    )


def _render_plain(tokenizer: Any, messages: Sequence[Message], generation_prompt: bool) -> str:
    eos = tokenizer.eos_token or ""
    parts = []
    for m in messages:
        if m["role"] == "assistant":
            parts.append(m["content"] + eos)
        else:
            parts.append(m["content"] + "\n\n")
    return "".join(parts)


def render(
    tokenizer: Any, messages: Sequence[Message], template: Template = "auto"
) -> tuple[str, list[tuple[int, int]]]:
    """Render a conversation to text and return the character spans of its assistant turns.

    Each span covers the assistant content and whatever the template appends to close the turn
    (e.g. ``<|im_end|>`` or EOS), so the model learns to stop.
    """
    kind = pick_template(tokenizer, template)
    draw = _render_chat if kind == "chat" else _render_plain
    text = draw(tokenizer, messages, False)
    spans: list[tuple[int, int]] = []
    for i, m in enumerate(messages):
        if m["role"] != "assistant":
            continue
        before = draw(tokenizer, messages[:i], True) if i else ""
        through = draw(tokenizer, messages[: i + 1], False)
        if not text.startswith(through) or not through.startswith(before):
            raise ValueError("the chat template does not render conversations as growing prefixes")
        spans.append((len(before), len(through)))
    return text, spans


def render_prompt(tokenizer: Any, prompt: Sequence[Message], template: Template = "auto") -> str:
    """Render prompt turns ready for generation (the model's turn comes next)."""
    kind = pick_template(tokenizer, template)
    if kind == "chat":
        return _render_chat(tokenizer, prompt, True)
    return _render_plain(tokenizer, prompt, True)


def encode(
    tokenizer: Any,
    messages: Sequence[Message],
    template: Template = "auto",
    max_length: int | None = None,
    train_on: Literal["all_assistant", "last_assistant"] = "all_assistant",
) -> Encoded:
    """Tokenize a conversation; labels keep only assistant tokens (all turns, or the last one).

    ``max_length`` truncates from the right. Chat templates carry their own BOS, so no extra
    special tokens are added.
    """
    text, spans = render(tokenizer, messages, template)
    if train_on == "last_assistant":
        spans = spans[-1:]
    enc = tokenizer(
        text,
        add_special_tokens=pick_template(tokenizer, template) == "plain",
        return_offsets_mapping=True,
        truncation=max_length is not None,
        max_length=max_length,
    )
    ids = list(enc["input_ids"])
    labels = [IGNORE_INDEX] * len(ids)
    for t, (start, end) in enumerate(enc["offset_mapping"]):
        if end <= start:
            continue  # special tokens added by the tokenizer carry no characters
        if any(s <= start < e for s, e in spans):
            labels[t] = ids[t]
    return Encoded(ids, labels)
