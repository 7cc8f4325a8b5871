"""Render a Reply as Telegram HTML (everything escaped) or as plain text, split below Telegram's limit."""

from __future__ import annotations

import html

from commands.reply import Reply, Span

__all__ = ["TELEGRAM_LIMIT", "render_html", "render_plain", "split_message"]

TELEGRAM_LIMIT = 4096
_TAGS = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>"), "code": ("<code>", "</code>")}


def _span_html(span: Span) -> str:
    escaped = html.escape(span.text, quote=False)
    start, end = _TAGS.get(span.style, ("", ""))
    return f"{start}{escaped}{end}"


def render_html(reply: Reply) -> list[str]:
    """HTML messages, each under the limit; lines are never split inside a tag."""
    return split_message(["".join(_span_html(s) for s in line) for line in reply.lines])


def render_plain(reply: Reply) -> str:
    return "\n".join("".join(s.text for s in line) for line in reply.lines)


def split_message(lines: list[str], limit: int = TELEGRAM_LIMIT - 96) -> list[str]:
    """Join lines into messages below `limit`, breaking at line boundaries (an overlong line is cut hard)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        while len(line) > limit:
            # A single line longer than a message: cut at a space so words stay whole where possible.
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                messages.append("\n".join(current))
                current, size = [], 0
            messages.append(line[:cut])
            line = line[cut:].lstrip()
        if size + len(line) + 1 > limit and current:
            messages.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current and any(current):
        messages.append("\n".join(current))
    return messages or [""]
