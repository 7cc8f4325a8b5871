"""Render a Reply as Telegram HTML (everything escaped) or as plain text, split below Telegram's limit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from commands.reply import Reply, Span

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "TELEGRAM_LIMIT",
    "plain_from_html",
    "render_caption",
    "render_html",
    "render_plain",
    "split_message",
    "tg_len",
]

TELEGRAM_LIMIT = 4096
CAPTION_LIMIT = 1024
# Headroom below the hard limit: the HTML source is measured, which is never shorter than what Telegram counts.
MESSAGE_LIMIT = TELEGRAM_LIMIT - 96
_TAGS = {"b": ("<b>", "</b>"), "i": ("<i>", "</i>"), "code": ("<code>", "</code>")}
_ESCAPED = {"&": 5, "<": 4, ">": 4}  # lengths of &amp; &lt; &gt;


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _cost(ch: str, escape: bool) -> int:
    if escape and ch in _ESCAPED:
        return _ESCAPED[ch]
    return 2 if ord(ch) > 0xFFFF else 1


def _fitting(text: str, room: int, escape: bool) -> int:
    """How many characters of `text` fit into `room` units (after escaping); prefers a cut at a space."""
    used = 0
    n = 0
    for ch in text:
        used += _cost(ch, escape)
        if used > room:
            break
        n += 1
    if n == len(text):
        return n
    space = text.rfind(" ", 0, n + 1)
    # Keep words whole unless that would waste more than half the room on one very long word.
    return space if space > n // 2 else n


def _span_html(span: Span) -> str:
    start, end = _TAGS.get(span.style, ("", ""))
    return f"{start}{html.escape(span.text, quote=False)}{end}"


def _line_pieces(spans: Sequence[Span], limit: int) -> list[str]:
    """One reply line as HTML pieces below `limit`; an overlong line is cut between characters of the
    text, never inside a tag or an entity, and each piece closes the tags it opens."""
    whole = "".join(_span_html(s) for s in spans)
    if tg_len(whole) <= limit:
        return [whole]
    pieces: list[str] = []
    current = ""
    for span in spans:
        start, end = _TAGS.get(span.style, ("", ""))
        text = span.text
        while text:
            room = limit - tg_len(current) - len(start) - len(end)
            n = _fitting(text, room, escape=True) if room > 0 else 0
            if n == 0 and current:
                pieces.append(current)
                current = ""
                continue
            n = max(n, 1)  # a limit too small for a single character still makes progress
            current += f"{start}{html.escape(text[:n], quote=False)}{end}"
            text = text[n:]
            if text:
                pieces.append(current)
                current = ""
                text = text.lstrip(" ")
    if current:
        pieces.append(current)
    return pieces


def _pack(pieces: Iterable[str], limit: int) -> list[str]:
    """Join pieces (each below `limit`) into messages at line boundaries; no message is blank."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        n = tg_len(piece)
        if current and size + 1 + n > limit:
            messages.append("\n".join(current))
            current, size = [], 0
        if not current and not piece.strip():
            continue  # a message never starts with a blank line
        size += (1 if current else 0) + n
        current.append(piece)
    if current:
        messages.append("\n".join(current))
    return [m.rstrip() for m in messages if m.strip()]


def render_html(reply: Reply, limit: int = MESSAGE_LIMIT) -> list[str]:
    """HTML messages, each below `limit`, split at line boundaries; [] for a reply without text."""
    return _pack((p for line in reply.lines for p in _line_pieces(line, limit)), limit)


def render_plain(reply: Reply) -> str:
    return reply.plain()


def plain_from_html(markup: str) -> str:
    """A rendered HTML piece back to plain text (the tags render_html writes, its escapes)."""
    return html.unescape(re.sub(r"</?(?:b|i|code)>", "", markup))


def split_message(lines: list[str], limit: int = MESSAGE_LIMIT) -> list[str]:
    """Plain text lines joined into messages below `limit`, broken at line boundaries
    (an overlong line is cut, at a space where possible)."""
    pieces: list[str] = []
    for line in lines:
        while tg_len(line) > limit:
            n = max(_fitting(line, limit, escape=False), 1)
            pieces.append(line[:n])
            line = line[n:].lstrip(" ")
        pieces.append(line)
    return _pack(pieces, limit)


def render_caption(text: str, limit: int = CAPTION_LIMIT) -> str:
    """A caption as HTML: Telegram counts the text after parsing, so cut the plain text, then escape."""
    if tg_len(text) > limit:
        text = text[: _fitting(text, limit - 1, escape=False)].rstrip() + "…"
    return html.escape(text, quote=False)
