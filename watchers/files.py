"""Files in the shared folder, touched without following links: opening, naming, placing and scanning."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "DEVICE",
    "FIFO",
    "LINK",
    "LINKED_FOLDER",
    "NAME_MAX",
    "SOCKET",
    "NotAFile",
    "Replaced",
    "entries",
    "fit_name",
    "kind_of",
    "move_entry",
    "name_max",
    "open_file",
    "parents_are_folders",
    "readable",
    "signature",
    "write_new",
]

NAME_MAX = 255  # bytes per name on Linux file systems and on SMB shares
LINK, FIFO, DEVICE, SOCKET, LINKED_FOLDER = "link", "fifo", "device", "socket", "linked_folder"

_FILE_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_BENEATH = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")


class NotAFile(Exception):
    """A link, FIFO, device or socket (or a path through a linked folder): never opened, read or copied."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class Replaced(Exception):
    """Another file took the name between the look and the open (an office save by rename): look again."""


def kind_of(mode: int) -> str | None:
    """None for a regular file, else what it is instead (directories count as 'other' and are the caller's)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return LINK
    if stat.S_ISFIFO(mode):
        return FIFO
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return DEVICE
    if stat.S_ISSOCK(mode):
        return SOCKET
    return "other"


def readable(name: str) -> str:
    """A name fit for texts and the store: bytes that are not UTF-8 (from an old client) become U+FFFD.

    The file itself keeps its real name; only what people read and what is stored is cleaned."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "replace")
    return name


def signature(st: os.stat_result) -> tuple[int, int, int]:
    """What identifies one state of one file: size, modification time and inode."""
    return st.st_size, st.st_mtime_ns, st.st_ino


def _below(root: Path | None, path: Path) -> tuple[str, ...] | None:
    if root is None:
        return None
    try:
        return Path(os.path.abspath(path)).relative_to(os.path.abspath(root)).parts
    except ValueError:
        return None


def parents_are_folders(root: Path, path: Path) -> bool:
    """Every folder between `root` and `path` is a real folder, not a link (lstat only; the target is never touched)."""
    parts = _below(root, path)
    if parts is None:
        return False
    current = Path(os.path.abspath(root))
    for part in parts[:-1]:
        current = current / part
        try:
            if not stat.S_ISDIR(os.lstat(current).st_mode):
                return False
        except OSError:
            return False
    return True


def open_file(path: Path, root: Path | None = None) -> tuple[int, os.stat_result]:
    """Open a regular file for reading without following a link: (fd, fstat), which the caller closes.

    lstat before, O_NOFOLLOW (and O_NONBLOCK, so a FIFO slipped in cannot block) on open, fstat after: the
    opened inode must be the regular file that was looked at. Below `root` every folder on the way is opened
    with O_NOFOLLOW as well, so a linked sub-folder cannot lead outside. Raises NotAFile, Replaced or OSError.
    """
    before = os.lstat(path)
    kind = kind_of(before.st_mode)
    if kind is not None:
        raise NotAFile(kind)
    parts = _below(root, path)
    try:
        if parts and len(parts) > 1 and _BENEATH:
            fd = _open_beneath(Path(root or "."), parts)
        else:
            if parts and not parents_are_folders(Path(root or "."), path):
                raise NotAFile(LINKED_FOLDER)
            fd = os.open(path, _FILE_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotAFile(LINK) from None  # it became a link after the lstat
        if exc.errno == errno.ENXIO:
            raise NotAFile(SOCKET) from None
        raise
    try:
        after = os.fstat(fd)
        kind = kind_of(after.st_mode)
        if kind is not None:
            raise NotAFile(kind)
        if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
            raise Replaced(path)
    except BaseException:
        os.close(fd)
        raise
    return fd, after


def _open_beneath(root: Path, parts: tuple[str, ...]) -> int:
    # The root itself may be a configured link (a share mounted elsewhere); below it, no link is followed.
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts[:-1]:
            try:
                sub = os.open(part, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                # O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR or ELOOP: look at the entry itself to tell.
                try:
                    linked = stat.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
                except OSError:
                    linked = False
                if linked:
                    raise NotAFile(LINKED_FOLDER) from None
                raise FileNotFoundError(errno.ENOENT, "Ordner fehlt", part) from None
            os.close(fd)
            fd = sub
        return os.open(parts[-1], _FILE_FLAGS, dir_fd=fd)
    finally:
        os.close(fd)


def name_max(folder: Path) -> int:
    """The longest name (bytes) the folder takes; 255 where the system does not say."""
    try:
        return min(int(os.pathconf(folder, "PC_NAME_MAX")), NAME_MAX)
    except (OSError, ValueError, AttributeError):
        return NAME_MAX


def _bytes(name: str) -> bytes:
    return name.encode("utf-8", "surrogateescape")


def fit_name(name: str, reserve: int = 0, limit: int = NAME_MAX) -> str:
    """`name`, shortened (keeping its extension, cut at a character boundary) so that `reserve` more bytes fit."""
    budget = max(limit - reserve, 1)
    raw = _bytes(name)
    if len(raw) <= budget:
        return name
    stem, dot, ext = name.rpartition(".")
    if not stem or len(_bytes(ext)) > 16:
        stem, dot, ext = name, "", ""
    tail = _bytes(dot + ext)
    cut = max(budget - len(tail), 1)
    head = _bytes(stem)
    while cut > 0 and cut < len(head) and (head[cut] & 0xC0) == 0x80:
        cut -= 1  # never split a UTF-8 character
    return (head[:cut] + tail).decode("utf-8", "surrogateescape")


def move_entry(source: Path, target: Path) -> None:
    """Move a directory entry as it is (a link stays a link, its target untouched); never copies, never overwrites."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError:
        # No hard links here (a share, protected_hardlinks): a rename moves the entry itself.
        if os.path.lexists(target):
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(source, target)
        return
    try:
        os.unlink(source)
    except OSError:
        os.unlink(target)
        raise


def write_new(folder: Path, data: bytes) -> Path:
    """Write `data` to a new hidden temporary file in `folder` (O_EXCL, never through a planted link)."""
    fd, name = tempfile.mkstemp(dir=folder, prefix=".sozialmonitor-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return Path(name)


def entries(folder: Path, skip: object = None) -> Iterator[tuple[Path, bool]]:
    """Every entry below `folder` as (path, is_folder), walking real sub-folders only: a linked folder is an
    entry of its own (reported, never entered). `skip(name)` leaves names out."""
    stack = [Path(folder)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                found = list(it)
        except OSError:
            continue
        for entry in found:
            if callable(skip) and skip(entry.name):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            if is_dir:
                stack.append(path)
            yield path, is_dir
