"""What the ingest found and did, as data: findings, the outcome of one file, notices.

Nothing here is worded. A finding is a code, its parameters and its place in the file; commands/ingest_words.py
words it (and every report and notice) in the reader's language when it is shown. This module imports only
the standard library and storage/, so that commands/ may read these types without depending on the ingest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storage.catalogue import CatalogueProblem
from storage.models import Delivery

__all__ = [
    "DUPLICATE",
    "FORMATS",
    "GONE",
    "HELD",
    "IMPORTED",
    "REFUSED",
    "REJECTED",
    "RETRY",
    "Finding",
    "IngestResult",
    "Notice",
    "clip",
]

IMPORTED, DUPLICATE, REJECTED = "imported", "duplicate", "rejected"
REFUSED = "refused"  # a link, FIFO, device or socket: never opened; moved aside (or left) with one sentence
RETRY = "retry"  # the file changed while it was read: still being written
HELD = "held"  # would be rejected, but the caller asked to look again before rejecting
GONE = "gone"  # vanished before it could be read

FORMATS = ".csv, .txt, .xlsx, .xlsm, .ods"  # the file types the ingest reads
_FOUND_LIMIT = 80


def clip(text: object) -> str:
    """A cell as shown in a message: printable characters only, at most 80 of them."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return text if len(text) <= _FOUND_LIMIT else text[: _FOUND_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Finding:
    """One thing found in a delivered file: a problem that rejects it, or a note on a file imported all the same.

    `code` names the message (a reader's problem `read.…` is also the key of its texts; a check's code, such as
    `unknown_area` or `jump`, is worded by commands/ingest_words.py) and `params` fill it. The place is the sheet,
    the row, the column (its heading in the file, or by its `role`: measure, indicator, period, value, …, named
    in the reader's language) and the column's letter; `found` is the cell as found (None: nothing to show).
    """

    code: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    letter: str | None = None
    found: str | None = None
    role: str | None = None

    @classmethod
    def make(cls, code: str, *, row: int | None = None, column: str | None = None, found: object = None,
             sheet: str | None = None, **params: object) -> Finding:
        """A reader's problem: the cell found is clipped to what a message can show; a `letter` among the
        params is the column's letter."""
        letter = params.pop("letter", None)
        return cls(code, params, sheet, row, column, None if letter is None else str(letter),
                   None if found is None else clip(found))


@dataclass(frozen=True)
class Notice:
    """A message as data: a code, its parameters and, for a catalogue, its problems. For the admins (a file that
    could not be moved, a share out of reach, a reloaded catalogue) or the people a protocol concerns."""

    code: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    problems: tuple[CatalogueProblem, ...] = ()


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file (or, with `preview`, what would happen: `pruefen` stores and moves nothing)."""

    file: str
    status: str
    office: str = ""
    rows: int = 0
    measures: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    delivery: int | None = None
    duplicate_of: int | None = None
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    moved_to: Path | None = None
    report: Path | None = None
    content_hash: str = ""
    signature: tuple[int, int, int] | None = field(default=None, compare=False)  # (size, mtime_ns, inode) read
    hints: tuple[str, ...] = ()  # imported, but worth a look: indicators in % whose cells may be fractions
    warnings: tuple[Finding, ...] = ()  # imported, but worth a look: repeated rows, jumps against the store
    refused: str = ""  # REFUSED: what the entry is instead of a file (files.LINK, FIFO, DEVICE, …)
    preview: bool = False  # a check only: nothing was stored or moved
    earlier: str = ""  # the file changed after it was handled as this status; this result is its final content
    withdrawn: int = 0  # values of the incomplete state that the final content does not hold: no longer current
    original: Delivery | None = field(default=None, compare=False)  # DUPLICATE: the delivery with this content
    # Its entry among the pipeline's follow-ups (a watchers.followup.Handled), for the watcher's second look.
    tracked: object = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.status in (IMPORTED, DUPLICATE)
