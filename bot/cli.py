"""The `sozialmonitor` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

from commands import Caller, State, dispatch, fmt
from commands.registry import find, split_command
from commands.texts import text
from storage.config import Settings, load_settings
from storage.jsonstore import StoreUnreadable

from .workspace import (
    Monitor,
    WorkspaceError,
    active_channels,
    create_workspace,
    is_workspace,
    open_checked,
    problem_text,
    workspace_problems,
)

__all__ = ["main"]

ENV_WORKSPACE = "SOZIALMONITOR_WORKSPACE"


def recipient_label(state: State, person: str) -> str:
    # Imported on use: commands.reminders brings the holiday tables, which `ask "/status"` never needs.
    from commands.reminders import recipient_label as label

    return label(state, person)


class CliError(Exception):
    """One sentence for stderr, with the exit status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# argparse's messages by their msgid -> our text key: argparse looks its texts up through gettext at call time.
_ARGPARSE_TEXTS = {
    "usage: ": "argparse.usage",
    "the following arguments are required: %s": "argparse.required",
    "unrecognized arguments: %s": "argparse.unrecognized",
    "invalid choice: %(value)r (choose from %(choices)s)": "argparse.invalid_choice",
    "argument %(argument_name)s: %(message)s": "argparse.argument",
    "invalid %(type)s value: %(value)r": "argparse.invalid_value",
    "expected one argument": "argparse.one",
    "expected at least one argument": "argparse.at_least_one",
    "expected at most one argument": "argparse.at_most_one",
    "ambiguous option: %(option)s could match %(matches)s": "argparse.ambiguous",
    "not allowed with argument %s": "argparse.not_allowed",
    "ignored explicit argument %r": "argparse.ignored",
    "one of the arguments %s is required": "argparse.one_of",
    "unknown parser %(parser_name)r (choices: %(choices)s)": "argparse.unknown_parser",
    "can't open '%(filename)s': %(error)s": "argparse.open_file",
    "show this help message and exit": "argparse.help",
    "positional arguments": "argparse.positionals",
    "options": "argparse.options",
}

_language = "de"  # of the workspace named on the command line, for messages before its settings are read


def _argparse_text(message: str) -> str:
    key = _ARGPARSE_TEXTS.get(message)
    return text(_language, key) if key else message


@contextmanager
def _argparse_in_language() -> Iterator[None]:
    # argparse has no language switch of its own; its gettext hook is swapped only while it parses or prints help.
    original = argparse._  # type: ignore[attr-defined]
    argparse._ = _argparse_text  # type: ignore[attr-defined]
    try:
        yield
    finally:
        argparse._ = original  # type: ignore[attr-defined]


def _columns() -> int:
    given = os.environ.get("COLUMNS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    try:
        columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
    except (AttributeError, ValueError, OSError):
        columns = 0
    return columns or 80


class _Formatter(argparse.HelpFormatter):
    """argparse's help layout, with the terminal's width found by `os`: argparse asks `shutil`, whose import loads
    bz2 and lzma, and it builds a formatter for every argument added, so every command paid about 4 ms for help
    it does not print."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        if width is None:  # as shutil.get_terminal_size: $COLUMNS, else the terminal, else 80; argparse keeps 2
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        with _argparse_in_language():  # the help option and group titles are worded here
            super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # argparse's own message is multi-line; the contract asks for one sentence in the workspace's language.
        sys.stderr.write(text(_lang(), "cli.bad_arguments", detail=message, prog=self.prog) + "\n")
        raise SystemExit(2)

    def parse_known_args(self, args=None, namespace=None):
        with _argparse_in_language():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with _argparse_in_language():
            return super().parse_args(args, namespace)

    def format_help(self) -> str:
        with _argparse_in_language():
            return super().format_help()

    def format_usage(self) -> str:
        with _argparse_in_language():
            return super().format_usage()


def _lang() -> str:
    return _language


def _language_of(argv: Sequence[str]) -> str:
    """The language of the workspace the command line names (settings problems: German)."""
    workspace = os.environ.get(ENV_WORKSPACE) or "arbeitsbereich"
    for i, arg in enumerate(argv):
        if arg == "--workspace" and i + 1 < len(argv):
            workspace = argv[i + 1]
        elif arg.startswith("--workspace="):
            workspace = arg.partition("=")[2]
    try:
        settings, _ = load_settings(Path(workspace), env={})
    except Exception:  # a language for a message is never worth a crash
        return "de"
    return settings.language


def _workspace(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "workspace", None) or os.environ.get(ENV_WORKSPACE) or "arbeitsbereich")


def _open(args: argparse.Namespace, *, guard_catalogue: bool = True, remember: bool = True,
          reading: bool = False) -> Monitor:
    """The workspace for a command; broken settings, or a catalogue dropping stored data, end it with exit 1."""
    try:
        # The command's name is shown to other processes while this one holds the workspace.
        monitor = open_checked(_workspace(args), guard_catalogue=guard_catalogue, remember=remember,
                               role=getattr(args, "command", None) or "", reading=reading)
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None
    vars(args).setdefault("_opened", []).append(monitor)  # kept until main() ends the process (see _exit)
    return monitor


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir) if args.dir else _workspace(args)
    try:
        create_workspace(target, demo_data=args.demo)
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None
    print(text("de", "cli.init_done", path=target))
    if args.demo:
        print(text("de", "cli.init_demo"))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    """Settings, catalogue, and the catalogue against the store (read-only: works while `run` holds it)."""
    workspace = _workspace(args)
    if not is_workspace(workspace):
        raise CliError(text("de", "cli.workspace_missing", path=workspace))
    settings, catalogue, problems = workspace_problems(workspace)
    from .channels import channel_problems

    problems += channel_problems(settings)
    for problem in problems:
        print(problem_text(problem, settings.language))
    if problems:
        return 1
    assert catalogue is not None
    print(text(settings.language, "cli.check_ok", measures=len(catalogue.measures),
               indicators=len(catalogue.indicators), persons=len(catalogue.persons)))
    return 0


def _identity(monitor: Monitor, who: str | None) -> Caller:
    """--as ID|NAME, or the local operator (admin rights) without it."""
    if who is None:
        return Caller(operator=True)
    from .console import IdentityError, identity

    try:
        return identity(monitor, who)
    except IdentityError as exc:
        # A bad argument like any other: the same one sentence as argparse's complaints.
        raise CliError(text(monitor.settings.language, "cli.bad_arguments", detail=str(exc), prog="sozialmonitor"),
                       2) from None


def _changes_nothing(message: str) -> bool:
    """Is `message` a command registered as one that only reads (an unknown one is answered without writing)?"""
    parsed = split_command(message)
    cmd = find(parsed[0]) if parsed else None
    return cmd is None or not cmd.writes


def cmd_ask(args: argparse.Namespace) -> int:
    said = " ".join(args.message)
    monitor = _open(args, reading=_changes_nothing(said))
    try:
        caller = _identity(monitor, args.as_user)
        now = monitor.now()
        telegram = bool(active_channels(monitor)) and not monitor.store.read_only
        if telegram:
            # The people must get the notices on their channel: kept in the outbox with the change (the next
            # `run` delivers them), reminders together with their sent marks.
            from .reminders import dispatch_keeping

            reply, _ = dispatch_keeping(monitor, said, caller, now)
        else:
            reply = dispatch(monitor.state, said, caller, now)
        out = reply.plain()  # what bot.render.render_plain gives, without loading the HTML renderer
        if reply.attachments:
            from .console import save_attachments

            for path in save_attachments(reply, monitor.settings.workspace / "ausgaben"):
                out += f"\n{path}"
        for notice in reply.notices:
            out += f"\n[{notice.kind} → {recipient_label(monitor.state, notice.person)}]\n{notice.text}"
        if reply.notices and telegram:
            out += "\n" + text(monitor.settings.language, "cli.notices_queued", n=len(reply.notices))
        if reply.status in ("usage", "error"):
            sys.stderr.write(out + "\n")
            return 2 if reply.status == "usage" else 1
        print(out)
        return 0
    finally:
        monitor.close()


def cmd_run(args: argparse.Namespace) -> int:
    from .run import run

    # A short-lived holder (an `ask`) is waited for; another `run` is refused at once.
    try:
        monitor = open_checked(_workspace(args), role="run", wait=RUN_LOCK_WAIT)
    except WorkspaceError as exc:
        raise CliError(str(exc)) from None
    try:
        if monitor.store.read_only:
            holder = monitor.store.holder_info()
            raise CliError(text(monitor.settings.language, "cli.run_busy", pid=holder.pid,
                                command=holder.role or "?", since=_since(holder.since)))
        if args.as_user is not None:
            _identity(monitor, args.as_user)  # a name that fits nobody is refused before anything starts
        return run(monitor, console=args.console, as_user=args.as_user)
    finally:
        monitor.close()


RUN_LOCK_WAIT = 10.0  # seconds `run` waits for a command that holds the workspace briefly


def _since(iso: str) -> str:
    from datetime import datetime

    try:
        return datetime.fromisoformat(iso).strftime("%d.%m.%Y %H:%M")
    except ValueError:
        return "?"


def cmd_ingest(args: argparse.Namespace) -> int:
    from commands.ingest_words import NOTICE_PROBLEMS, finding_line, refusal
    from watchers.pipeline import DUPLICATE, GONE, IMPORTED, REFUSED, REJECTED, Pipeline

    monitor = _open(args)
    try:
        lang = monitor.settings.language
        # Same pipeline as the watcher, but the originals stay: copies are archived or rejected.
        if monitor.store.read_only:
            raise CliError(text(lang, "store_locked", path=monitor.store.path, pid=monitor.store.holder))
        pipeline = Pipeline(monitor, sink=None)
        failed = False
        for name in args.files:
            path = Path(name)
            if not os.path.lexists(path):
                print(text(lang, "ingest.cli.missing", file=name))
                failed = True
                continue
            if path.is_dir() and not path.is_symlink():
                print(text(lang, "ingest.cli.folder", file=name))
                failed = True
                continue
            # A link, FIFO or device is refused by the pipeline unread (it never follows or opens one).
            result = pipeline.process(path, pipeline.office_hint(path), keep_original=True)
            if result.status == IMPORTED:
                print(text(lang, "ingest.cli.imported", file=name, rows=result.rows, new=result.new,
                           replaced=result.replaced, unchanged=result.unchanged))
            elif result.status == DUPLICATE:
                print(text(lang, "ingest.cli.duplicate", file=name, delivery=result.duplicate_of))
            elif result.status == REJECTED:
                failed = True
                print(text(lang, "ingest.cli.rejected", file=name, n=len(result.findings),
                           report=result.report or monitor.settings.rejected))
                for finding in result.findings[:NOTICE_PROBLEMS]:
                    print(text(lang, "ingest.cli.first", problem=finding_line(finding, lang)))
            elif result.status == REFUSED:
                failed = True
                print(text(lang, "ingest.cli.refused", file=name,
                           sentence=refusal(result.file, result.refused, lang, moved=None)))
            else:
                failed = True
                print(text(lang, "ingest.cli.missing" if result.status == GONE else "ingest.cli.retry", file=name))
        return 1 if failed else 0
    finally:
        monitor.close()


def cmd_pruefen(args: argparse.Namespace) -> int:
    """Judge files exactly like an import; nothing is stored, moved or archived; one line per file."""
    from commands.ingest_words import check_summary
    from watchers.pipeline import DUPLICATE, IMPORTED, Pipeline

    monitor = _open(args, remember=False)  # a check leaves the store byte for byte as it is
    try:
        lang = monitor.settings.language
        # Works while `run` holds the store too: a check only reads it.
        pipeline = Pipeline(monitor, sink=None)
        failed = False
        for name in args.files:
            path = Path(name)
            if not os.path.lexists(path):
                print(text(lang, "ingest.cli.missing", file=name))
                failed = True
                continue
            result = pipeline.check(path, pipeline.office_hint(path))
            print(text(lang, "check.cli.line", file=name, summary=check_summary(result, lang)))
            failed = failed or result.status not in (IMPORTED, DUPLICATE)
        return 1 if failed else 0
    finally:
        monitor.close()


def cmd_reminders(args: argparse.Namespace) -> int:
    """List (and with --send deliver) the reminders due at --at; informational lines go to stderr.

    stdout carries one line per reminder: recipient, kind, measure, text (tab-separated). Items for the admins
    are listed even when the catalogue names no admin yet: the operator running the command is the Fachstelle.
    Without a Telegram token, --send records them as sent and the listing is the delivery (console mode).
    """
    from datetime import datetime

    from commands.reminders import (
        ADMINS,
        blocked_reason,
        due_reminders,
        next_slot,
        recipient_label,
        reminder_line,
    )

    from .channels import active_channels, send_once
    from .reminders import OutboxCollector, deliver_reminders

    monitor = _open(args)
    try:
        state = monitor.state
        lang = state.lang
        if args.at:
            try:
                now = datetime.fromisoformat(args.at.strip())
            except ValueError:
                raise CliError(text(lang, "cli.bad_datetime", found=args.at)) from None
            now = state.local(now)
            if args.send and now > monitor.now():
                # A what-if must never consume real reminders: sent keys would be missing when the moment comes.
                raise CliError(text(lang, "cli.reminders_future_send", at=args.at), status=2)
        else:
            now = monitor.now()
        due = due_reminders(state, now)
        for reminder in due:
            print(reminder_line(state, reminder))
        reason = blocked_reason(state, now)
        if reason is not None:
            slot = next_slot(state, now)
            sys.stderr.write(reason + " " + state.t("rem.next_slot", weekday=state.t(f"weekday.{slot.weekday()}"),
                                                    day=fmt.day(slot.date(), lang), time=fmt.clock(slot.time()))
                             + "\n")
        elif not due:
            sys.stderr.write(state.t("rem.cli_none") + "\n")
        from commands.outgoing import channels_of, configured_channels

        available = configured_channels(monitor.settings)
        admins_reachable = (any(channels_of(p, available) for p in monitor.catalogue.admins)
                            or monitor.settings.access.admin_chat or monitor.settings.matrix.rooms)
        if not admins_reachable and any(r.recipient == ADMINS for r in due):
            sys.stderr.write(state.t("rem.cli_no_admins") + "\n")
        if args.send and due:
            if monitor.store.read_only:
                # The running monitor sends reminders itself; a second sender would send them twice.
                raise CliError(text(lang, "store_locked", path=monitor.store.path, pid=monitor.store.holder))
            channels = active_channels(monitor)
            # With a channel the reminders go into the outbox together with their sent marks (one step), and
            # leave it through the same outbox service as in `run`: rate limits, retries, exactly once.
            collector = OutboxCollector(monitor)
            bundles = deliver_reminders(monitor, collector if channels else (lambda message: None), now)
            if channels:
                problems, waiting = send_once(monitor, collector.kept)
                for name, detail in problems:
                    sys.stderr.write(state.t("rem.cli_undelivered", name=recipient_label(state, name),
                                             detail=detail) + "\n")
                if waiting:
                    sys.stderr.write(state.t("rem.cli_waiting", n=waiting) + "\n")
            sys.stderr.write(state.t("rem.cli_sent", n=sum(len(b.reminders) for b in bundles),
                                     messages=len(bundles)) + "\n")
        return 0
    finally:
        monitor.close()


REPORT_SUFFIXES = {".md": "md", ".markdown": "md", ".txt": "md", ".html": "html", ".htm": "html", ".pdf": "pdf",
                   ".xlsx": "xlsx"}


def _report_format(args: argparse.Namespace, lang: str) -> str:
    """--format, or the ending of -o FILE when --format is not given; an ending that contradicts --format is refused."""
    given = args.format
    suffix = Path(args.output).suffix.casefold() if args.output else ""
    implied = REPORT_SUFFIXES.get(suffix)
    if given is None:
        if suffix and implied is None:
            raise CliError(text(lang, "cli.report_unknown_suffix", suffix=suffix, path=args.output), 2)
        return implied or "md"
    if implied is not None and implied != given:
        raise CliError(text(lang, "cli.report_format_conflict", path=args.output, suffix=suffix, form=given), 2)
    return given


def cmd_report(args: argparse.Namespace) -> int:
    """The committee report as of now: md/html to -o FILE or stdout; xlsx/pdf to -o FILE or ./bericht_JJJJ-MM-TT.EXT.

    A workbook or PDF is binary, so without -o it is written into the current folder and its path printed.
    Without --format the ending of -o FILE decides (bericht.pdf -> pdf).
    """
    from commands.render_report import PdfUnavailable, drawing_ahead, render
    from commands.report import build_report

    form = _report_format(args, _lang())
    # Charts: a process imports matplotlib while this one reads the store and builds the report.
    ahead = drawing_ahead() if form in ("html", "pdf") else None
    monitor = None
    try:
        monitor = _open(args, reading=True)
        lang = monitor.settings.language
        now = monitor.now()
        today = now.date()
        state = monitor.state
        report = build_report(state, now, charts=form in ("html", "pdf"))
        try:
            data, _ = render(report, form, kept=state.figures, ahead=ahead)
        except PdfUnavailable as exc:
            raise CliError(text(lang, "cli.report_pdf_failed", reason=exc.reason)) from None
    finally:
        if ahead is not None:
            ahead.close()
        if monitor is not None:
            monitor.close()
    if args.output:
        path = Path(args.output)
    elif form in ("xlsx", "pdf"):
        path = Path.cwd() / f"bericht_{today.isoformat()}.{form}"
    else:
        # Bytes, not text: the report is UTF-8 whatever the console's locale says.
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return 0
    try:
        path.write_bytes(data)
    except OSError:
        raise CliError(text(lang, "cli.report_write_failed", path=path)) from None
    print(text(lang, "cli.report_written", path=path))
    return 0


def _settings_only(args: argparse.Namespace) -> Settings:
    """Settings of the workspace without opening the store: for commands that must work on a damaged one."""
    workspace = _workspace(args)
    if not is_workspace(workspace):
        raise CliError(text("de", "cli.workspace_missing", path=workspace))
    settings, _ = load_settings(workspace)
    return settings


def cmd_sicherungen(args: argparse.Namespace) -> int:
    """The store's backups, newest first: name, local time, content counts, whether usable."""
    from storage.store import list_backups

    from .workspace import local_time

    settings = _settings_only(args)
    lang = settings.language
    backups = list_backups(settings.store_file)
    if not backups:
        print(text(lang, "backups.none", folder=settings.store_file.parent / "sicherungen"))
        return 0
    for b in backups:
        usable = (text(lang, "backups.usable") if b.usable
                  else text(lang, f"backups.unusable.{b.problem}", segment=b.segment))
        print(text(lang, "backups.line", name=b.name, taken=local_time(b.taken, settings), meetings=b.meetings,
                   protocols=b.protocols, deliveries=b.deliveries, values=b.observations, usable=usable))
    return 0


def cmd_wiederherstellen(args: argparse.Namespace) -> int:
    """Restore a backup (default the newest usable one); the current state is kept as a backup first."""
    from storage.store import StoreError, restore_backup

    from .workspace import local_time

    settings = _settings_only(args)
    lang = settings.language
    try:
        restored = restore_backup(settings.store_file, args.name, backups=settings.store.backups)
    except StoreError as exc:
        raise CliError(text(lang, exc.code, **exc.params)) from None
    b = restored.backup
    print(text(lang, "restore.done", name=b.name, taken=local_time(b.taken, settings), meetings=b.meetings,
               protocols=b.protocols, deliveries=b.deliveries))
    print(text(lang, "restore.previous", previous=restored.previous.name) if restored.previous
          else text(lang, "restore.no_previous"))
    return 0


def cmd_vorlage(args: argparse.Namespace) -> int:
    """The fill-in template of one office (all offices without AMT), as XLSX or German-Excel CSV.

    Without -o it is written into the current folder as vorlage_AMT_JJJJ-MM-TT.xlsx|csv and its path printed.
    """
    from commands.registry import UsageError
    from commands.template import resolve_office, template_file

    monitor = _open(args)
    try:
        state = monitor.state
        lang = state.lang
        try:
            office = resolve_office(state, " ".join(args.office)) if args.office else None
        except UsageError as exc:
            raise CliError(text(lang, exc.key, **exc.params), 2) from None
        template, attachment = template_file(state, office, monitor.now().date(), args.format)
    finally:
        monitor.close()
    path = Path(args.output) if args.output else Path.cwd() / attachment.filename
    try:
        path.write_bytes(attachment.data)
    except OSError:
        raise CliError(text(lang, "cli.template_write_failed", path=path)) from None
    print(text(lang, "cli.template_written", path=path))
    print(attachment.caption)
    if not template.rows:
        print(text(lang, "tpl.nothing_open") if template.indicators else
              text(lang, "tpl.no_indicators", office=office or text(lang, "tpl.all_offices")))
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--workspace", metavar="DIR", default=argparse.SUPPRESS,
                        help="Arbeitsbereich (Standard: $SOZIALMONITOR_WORKSPACE oder ./arbeitsbereich)")
    parser = _Parser(prog="sozialmonitor", parents=[common],
                     description="Sozialmonitor: Ablage-Watcher, Chat-Bot und Ausschussbericht.")
    sub = parser.add_subparsers(dest="command", metavar="BEFEHL", parser_class=_Parser)

    p = sub.add_parser("init", parents=[common], help="Arbeitsbereich anlegen")
    p.add_argument("dir", nargs="?", metavar="DIR")
    p.add_argument("--demo", action="store_true", help="mit Beispieldaten („Beispiel“)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("run", parents=[common], help="Watcher, Erinnerungen und Chat starten")
    p.add_argument("--console", action="store_true", help="Konsolen-Chat statt Telegram")
    p.add_argument("--as", dest="as_user", metavar="ID|NAME",
                   help="im Konsolen-Chat als diese Person des Katalogs (Telegram-ID oder Name) schreiben")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ask", parents=[common], help="einen Chat-Befehl beantworten")
    p.add_argument("--as", dest="as_user", metavar="ID|NAME",
                   help="als dieser Telegram-Nutzer bzw. diese Person des Katalogs fragen")
    p.add_argument("message", nargs="+", metavar="BEFEHL", help='z. B. "/status M21"')
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("ingest", parents=[common], help="Indikatordateien importieren")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("pruefen", parents=[common], help="Indikatordateien prüfen, ohne sie zu importieren")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_pruefen)

    p = sub.add_parser("reminders", parents=[common], help="fällige Erinnerungen zeigen oder senden")
    p.add_argument("--at", metavar="ISO_DATETIME", help="Zeitpunkt, z. B. 2018-09-19T09:00")
    p.add_argument("--send", action="store_true", help="die Erinnerungen senden")
    p.set_defaults(func=cmd_reminders)

    p = sub.add_parser("report", parents=[common], help="Bericht für den Sozialausschuss")
    p.add_argument("--format", choices=("md", "html", "pdf", "xlsx"), default=None,
                   help="Standard: nach der Endung von -o, sonst md")
    p.add_argument("-o", dest="output", metavar="FILE")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("vorlage", parents=[common], help="Ausfüllvorlage für ein Amt (alle Ämter ohne AMT)")
    p.add_argument("office", nargs="*", metavar="AMT", help='z. B. "Amt 61"')
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("-o", dest="output", metavar="FILE")
    p.set_defaults(func=cmd_vorlage)

    p = sub.add_parser("check", parents=[common], help="Einstellungen und Katalog prüfen")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("sicherungen", parents=[common], help="die Sicherungen der Datenbank zeigen")
    p.set_defaults(func=cmd_sicherungen)

    p = sub.add_parser("wiederherstellen", parents=[common], help="eine Sicherung der Datenbank zurückholen")
    p.add_argument("name", nargs="?", metavar="NAME", help="Name der Sicherung (Standard: die neueste nutzbare)")
    p.set_defaults(func=cmd_wiederherstellen)
    return parser


class _QuietPipe:
    """stdout whose reader may go away (`| head -1`): the rest of the output is dropped, the command finishes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def _reader_gone(self) -> None:
        # Further writes, and the interpreter's last flush, go to /dev/null instead of failing again.
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):
            return
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)

    def write(self, data: Any) -> int:
        try:
            return self._stream.write(data)
        except BrokenPipeError:
            self._reader_gone()
            return len(data)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._reader_gone()

    @property
    def buffer(self) -> _QuietPipe:
        return _QuietPipe(self._stream.buffer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def main(argv: Sequence[str] | None = None) -> int:
    """The `sozialmonitor` command. Called without `argv` (the installed command, `python -m bot`), a command
    other than `run` ends the process right after its output is flushed (see `_exit`)."""
    global _language
    bare = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    _language = _language_of(argv)
    stdout = sys.stdout
    sys.stdout = _QuietPipe(stdout)
    try:
        status, command = _main(argv)
    finally:
        sys.stdout.flush()
        sys.stdout = stdout
    if bare and command != "run":
        _exit(status)
    return status


def _main(argv: list[str]) -> tuple[int, str | None]:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2, None
    return _call(args), args.command


def _call(args: argparse.Namespace) -> int:
    try:
        return args.func(args)
    except CliError as exc:
        sys.stderr.write(str(exc) + "\n")
        return exc.status
    except KeyboardInterrupt:
        sys.stderr.write(text(_lang(), "cli.interrupted") + "\n")
        return 130
    except StoreUnreadable as exc:
        # Rows are read on first use: a segment damaged after the store was opened is found only now.
        from .workspace import unreadable_text

        sys.stderr.write(unreadable_text(exc, _lang()) + "\n")
        return 1
    except Exception as exc:
        # Never a traceback for the user: it goes to a log file, the user gets one sentence saying where.
        log_file = _crash_log(args)
        sys.stderr.write(text(_lang(), "cli.unexpected", what=type(exc).__name__, log=log_file) + "\n")
        return 1


def _exit(status: int) -> NoReturn:
    """End the process without tearing down its heap object by object.

    With a large store in memory (a report reads every value) the interpreter's orderly teardown frees millions of
    objects one at a time, which took longer than the command itself. Everything that must reach the disk is
    written and closed by then (store, outbox, output files); stdout and stderr are flushed here.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or stream: nothing more can be said there
            pass
    logging = sys.modules.get("logging")  # imported only where something was logged
    if logging is not None:
        logging.shutdown()
    os._exit(status)


def _crash_log(args: argparse.Namespace) -> Path:
    import tempfile
    import traceback
    from datetime import datetime

    folder = _workspace(args) / "daten"
    if not folder.is_dir():
        folder = Path(tempfile.gettempdir())
    path = folder / "sozialmonitor-fehler.log"
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} sozialmonitor {args.command}\n")
            fh.write(traceback.format_exc())
    except OSError:
        pass
    return path


if __name__ == "__main__":
    raise SystemExit(main())
