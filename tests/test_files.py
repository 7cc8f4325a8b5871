"""Opening, naming and moving files in the shared folder without ever following a link (real files, links, FIFOs)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from watchers import files


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the shared folder that must never be read through a link."""
    path = tmp_path / "draussen" / "geheim.csv"
    path.parent.mkdir()
    path.write_text("root:x:0:0:geheim\n", encoding="utf-8")
    return path


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "ablage" / "eingang"
    path.mkdir(parents=True)
    return path


def read_all(path: Path, root: Path | None = None) -> bytes:
    fd, _ = files.open_file(path, root)
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def test_a_regular_file_is_read(inbox: Path) -> None:
    (inbox / "Amt 61").mkdir()
    path = inbox / "Amt 61" / "a.csv"
    path.write_bytes(b"x;y\r\n")
    assert read_all(path, inbox) == b"x;y\r\n"
    assert read_all(path) == b"x;y\r\n"


def test_links_fifos_and_sockets_are_refused_unopened(inbox: Path, secret: Path) -> None:
    link = inbox / "passwd.csv"
    link.symlink_to(secret)
    with pytest.raises(files.NotAFile) as caught:
        read_all(link, inbox)
    assert caught.value.kind == files.LINK
    dangling = inbox / "weg.csv"
    dangling.symlink_to(inbox / "gibt-es-nicht.csv")
    with pytest.raises(files.NotAFile):
        read_all(dangling)
    fifo = inbox / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(files.NotAFile) as caught:
        read_all(fifo, inbox)  # would block for ever if it were opened for reading without O_NONBLOCK
    assert caught.value.kind == files.FIFO
    sock_path = inbox / "s.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(files.NotAFile) as caught:
            read_all(sock_path, inbox)
    assert caught.value.kind == files.SOCKET
    with pytest.raises(files.NotAFile) as caught:
        read_all(Path("/dev/null"))
    assert caught.value.kind == files.DEVICE


def test_a_linked_sub_folder_is_not_entered(inbox: Path, secret: Path) -> None:
    (inbox / "Amt 61").symlink_to(secret.parent, target_is_directory=True)
    inside = inbox / "Amt 61" / "geheim.csv"
    assert inside.exists()  # the operating system would follow it…
    with pytest.raises(files.NotAFile) as caught:
        read_all(inside, inbox)  # …we do not
    assert caught.value.kind == files.LINKED_FOLDER
    assert not files.parents_are_folders(inbox, inside)
    listed = [p.name for p, _ in files.entries(inbox)]
    assert listed == ["Amt 61"]  # the link is an entry of its own; its target is never listed


def test_a_file_saved_anew_under_the_same_name_has_another_signature(inbox: Path, secret: Path) -> None:
    path = inbox / "a.csv"
    path.write_bytes(b"eins")
    before = os.lstat(path)
    fd, st = files.open_file(path)
    os.close(fd)
    assert files.signature(st) == files.signature(before)
    replacement = inbox / "neu.csv"
    replacement.write_bytes(b"zwei")
    os.replace(replacement, path)
    assert files.signature(os.lstat(path)) != files.signature(before)  # another inode under the same name


def test_move_entry_moves_the_link_not_its_target(inbox: Path, secret: Path, tmp_path: Path) -> None:
    link = inbox / "passwd.csv"
    link.symlink_to(secret)
    rejected = tmp_path / "ablage" / "abgelehnt"
    rejected.mkdir()
    files.move_entry(link, rejected / "passwd.csv")
    assert not os.path.lexists(link)
    assert (rejected / "passwd.csv").is_symlink()
    assert secret.read_text(encoding="utf-8") == "root:x:0:0:geheim\n" and secret.parent.is_dir()
    (inbox / "x.csv").write_bytes(b"neu")
    with pytest.raises(FileExistsError):
        files.move_entry(inbox / "x.csv", rejected / "passwd.csv")  # never overwrites
    assert (inbox / "x.csv").exists()


@pytest.mark.parametrize(("name", "reserve"), [
    ("x" * 249 + ".csv", 19),
    ("ü" * 200 + ".xlsx", 19),
    ("Lieferung " + "Straße " * 60 + "final.ods", 11),
    ("ohne_endung" * 40, 8),
    ("a." + "b" * 300, 8),  # an "extension" too long to keep
])
def test_fit_name_stays_below_name_max_in_bytes_and_keeps_the_extension(name: str, reserve: int) -> None:
    fitted = files.fit_name(name, reserve)
    raw = fitted.encode("utf-8")  # a valid UTF-8 name: no character was split
    assert len(raw) + reserve <= files.NAME_MAX
    assert len(raw) + reserve > files.NAME_MAX - 4  # shortened only as far as needed
    stem, _, ext = name.rpartition(".")
    if stem and len(ext) <= 16:
        assert fitted.endswith("." + ext)
    assert name.startswith(fitted.rsplit(".", 1)[0][:20])


def test_fit_name_leaves_short_names_alone() -> None:
    assert files.fit_name("M21_Sozialwohnungen_2026.xlsx", 19) == "M21_Sozialwohnungen_2026.xlsx"


def test_write_new_never_writes_through_a_planted_link(inbox: Path, secret: Path) -> None:
    before = secret.read_bytes()
    for k in range(5):
        (inbox / f".sozialmonitor-falle{k}.part").symlink_to(secret)
    tmp = files.write_new(inbox, b"bericht")
    assert tmp.read_bytes() == b"bericht" and not tmp.is_symlink()
    assert secret.read_bytes() == before
