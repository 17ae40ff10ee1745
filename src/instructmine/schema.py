"""The canonical example schema shared by every stage (DESIGN.md §4).

A pool is a Parquet file (or a stream of Arrow record batches) with these columns:

- ``id``: a stable string id (same record content and source give the same id on every run/machine)
- ``source``: the data set name the record came from
- ``category``: an optional tag such as ``chat``, ``code`` or ``nlp``
- ``messages``: a list of ``{role, content}`` turns, roles ``system``/``user``/``assistant``
- ``meta``: optional JSON text holding the original record's extra fields, when kept

Single-turn formats map to ``[user: instruction (+ "\\n\\n" + input), assistant: output]``.
The *prompt* of an example is every turn before the last assistant turn; the *response* is the
last assistant turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

ROLES = ("system", "user", "assistant")

MESSAGE_TYPE = pa.struct([("role", pa.string()), ("content", pa.string())])

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("category", pa.string()),
        pa.field("messages", pa.list_(MESSAGE_TYPE), nullable=False),
        pa.field("meta", pa.string()),
    ]
)

Message = dict[str, str]


def split_prompt_response(messages: Sequence[Message]) -> tuple[list[Message], str]:
    """Split a conversation into (prompt turns, response text).

    The response is the content of the last assistant turn; the prompt is every turn before it.
    Raises ``ValueError`` when there is no assistant turn.
    """
    for i in range(len(messages) - 1, -1, -1):
        if messages[i]["role"] == "assistant":
            return [dict(m) for m in messages[:i]], messages[i]["content"]
    raise ValueError("conversation has no assistant turn")


def prompt_text(prompt: Sequence[Message]) -> str:
    """Flatten prompt turns into plain text (for length, embedding and judge inputs).

    A single user turn is returned as is; several turns are joined as ``role: content`` lines.
    """
    if len(prompt) == 1 and prompt[0]["role"] == "user":
        return prompt[0]["content"]
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in prompt)


def table_from_records(records: Sequence[dict[str, Any]]) -> pa.Table:
    """Build a canonical Arrow table from record dicts (missing optional fields become null)."""
    cols = {name: [r.get(name) for r in records] for name in SCHEMA.names}
    return pa.Table.from_pydict(cols, schema=SCHEMA)
