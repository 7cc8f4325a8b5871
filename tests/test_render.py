"""Tests for bot/render.py: HTML escaping and splitting below Telegram's limits."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.render import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    render_caption,
    render_html,
    render_plain,
    split_message,
    tg_len,
)
from commands.reply import Reply, ReplyBuilder, Span, b, code, i

_TOKEN = re.compile(r"<(/?)(b|i|code)>|&(amp|lt|gt);|([^<>&])", re.S)


def parse(message: str) -> str:
    """The text Telegram would show; fails on anything that is not well-formed Telegram HTML."""
    stack: list[str] = []
    out: list[str] = []
    pos = 0
    while pos < len(message):
        m = _TOKEN.match(message, pos)
        assert m, f"not valid HTML at {pos}: {message[pos:pos + 20]!r}"
        closing, tag, entity, char = m.groups()
        if tag and closing:
            assert stack and stack.pop() == tag, f"unbalanced </{tag}>"
        elif tag:
            assert not stack, "nested tags"
            stack.append(tag)
        elif entity:
            out.append({"amp": "&", "lt": "<", "gt": ">"}[entity])
        else:
            out.append(char)
        pos = m.end()
    assert not stack, f"unclosed <{stack[-1]}>"
    return "".join(out)


def _reply(*lines: tuple[Span, ...]) -> Reply:
    return Reply(tuple(lines))


def test_user_text_is_escaped_and_styles_become_tags() -> None:
    reply = ReplyBuilder().line(b("M21 <Wohnen>"), " A&B ", i("x_y"), code("<script>")).build()
    [message] = render_html(reply)
    assert message == "<b>M21 &lt;Wohnen&gt;</b> A&amp;B <i>x_y</i><code>&lt;script&gt;</code>"
    assert parse(message) == render_plain(reply)


def test_long_reply_is_split_at_line_boundaries() -> None:
    lines = [(Span(f"Zeile {n:04d} " + "x" * 80),) for n in range(200)]
    messages = render_html(_reply(*lines))
    assert len(messages) > 1
    assert all(tg_len(m) <= MESSAGE_LIMIT for m in messages)
    # Every line arrives whole, in order.
    assert "\n".join(messages).split("\n") == ["".join(s.text for s in line) for line in lines]


def test_overlong_line_is_never_cut_inside_a_tag_or_entity() -> None:
    # One line of bold ampersands: a naive character cut lands inside "&amp;" or before "</b>".
    reply = _reply((b("&" * 3000), Span(" <tail> " * 200), code("&lt;" * 500)))
    messages = render_html(reply, limit=500)
    assert len(messages) > 5
    for m in messages:
        assert tg_len(m) <= 500
        parse(m)
    shown = "".join(parse(m) for m in messages)
    assert shown.replace(" ", "") == render_plain(reply).replace(" ", "")


def test_length_counts_utf16_units_like_telegram() -> None:
    emoji = "📎" * 3000  # 6000 UTF-16 units, 3000 code points
    messages = render_html(_reply((Span(emoji),)))
    assert len(messages) == 2
    assert all(tg_len(m) <= MESSAGE_LIMIT for m in messages)
    assert "".join(messages) == emoji


def test_empty_reply_renders_no_message_and_blank_lines_never_lead() -> None:
    assert render_html(Reply()) == []
    assert render_html(_reply((), (), (Span("x"),), ())) == ["x"]
    messages = split_message(["a" * 30, "", "b" * 30], limit=32)
    assert messages == ["a" * 30, "b" * 30]


def test_split_message_cuts_plain_lines_at_spaces() -> None:
    messages = split_message(["wort " * 100], limit=64)
    assert all(len(m) <= 64 and not m.startswith(" ") for m in messages)
    assert all(w == "wort" for m in messages for w in m.split())


def test_caption_is_cut_before_escaping() -> None:
    caption = render_caption("<&>" * 1000)
    assert tg_len(parse(caption)) <= CAPTION_LIMIT
    assert parse(caption).endswith("…")
    assert render_caption("Bericht M21_Sozial") == "Bericht M21_Sozial"


_spans = st.lists(
    st.builds(Span, st.text(alphabet=st.sampled_from("ab &<>_ü📎\t"), max_size=120),
              st.sampled_from(["", "b", "i", "code"])),
    max_size=6,
).map(tuple)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_spans, max_size=12), limit=st.integers(min_value=20, max_value=200))
def test_any_reply_renders_to_valid_messages_below_the_limit(lines: list[tuple[Span, ...]], limit: int) -> None:
    reply = _reply(*lines)
    messages = render_html(reply, limit=limit)
    shown = []
    for m in messages:
        assert tg_len(m) <= limit
        assert m.strip()
        shown.append(parse(m))
    # Nothing is lost but the whitespace at cuts and around blank lines.
    assert "".join("".join(shown).split()) == "".join(render_plain(reply).split())
