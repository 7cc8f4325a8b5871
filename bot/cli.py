"""The `sozialmonitor` command line: a thin layer over the library."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from commands import Caller, State, dispatch, fmt
from commands.reply import Reply
from commands.texts import text
from storage.config import load_settings
from storage.jsonstore import StoreUnreadable

from .render import render_plain
from .workspace import Monitor, WorkspaceError, create_workspace, is_workspace, problem_text

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


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own message is English and multi-line; the contract asks for one German sentence.
        sys.stderr.write(text(_lang(), "cli.bad_arguments", detail=message) + "\n")
        raise SystemExit(2)


def _lang() -> str:
    return os.environ.get("SOZIALMONITOR_LANGUAGE", "de") if os.environ.get("SOZIALMONITOR_LANGUAGE") in (
        "de", "en") else "de"


def _workspace(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "workspace", None) or os.environ.get(ENV_WORKSPACE) or "arbeitsbereich")


def _open(args: argparse.Namespace) -> Monitor:
    try:
        monitor = Monitor.open(_workspace(args))
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
    workspace = _workspace(args)
    if not is_workspace(workspace):
        raise CliError(text("de", "cli.workspace_missing", path=workspace))
    settings, problems = load_settings(workspace)
    from storage.catalogue import load_catalogue

    catalogue, cat_problems = load_catalogue(settings.catalogue_file)
    problems += cat_problems
    for problem in problems:
        print(problem_text(problem, settings.language))
    if problems:
        return 1
    assert catalogue is not None
    print(text(settings.language, "cli.check_ok", measures=len(catalogue.measures),
               indicators=len(catalogue.indicators), persons=len(catalogue.persons)))
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    monitor = _open(args)
    try:
        if args.as_user is None:
            caller = Caller(operator=True)
        else:
            person = monitor.catalogue.person_by_telegram(args.as_user)
            caller = Caller(user_id=args.as_user, chat_id=args.as_user, person=person)
        reply = dispatch(monitor.state, " ".join(args.message), caller, monitor.now())
        out = render_plain(reply)
        if reply.attachments:
            from .console import save_attachments

            for path in save_attachments(reply, monitor.settings.workspace / "ausgaben"):
                out += f"\n{path}"
        for notice in reply.notices:
            out += f"\n[{notice.kind} → {recipient_label(monitor.state, notice.person)}]\n{notice.text}"
        if reply.notices and monitor.settings.telegram.token:
            # With Telegram configured the people must get them there: the next `run` delivers the outbox.
            _queue_notices(monitor, reply)
            out += "\n" + text(monitor.settings.language, "cli.notices_queued", n=len(reply.notices))
        if reply.status in ("usage", "error"):
            sys.stderr.write(out + "\n")
            return 2 if reply.status == "usage" else 1
        print(out)
        return 0
    finally:
        monitor.close()


def _queue_notices(monitor: Monitor, reply: Reply) -> None:
    from commands.reply import ReplyBuilder
    from storage.outbox import Outbox

    from .render import render_html

    box = Outbox(monitor.settings.data / "postausgang.json")
    try:
        for notice in reply.notices:
            box.add(kind=notice.kind, key=notice.key, recipients=[notice.person],
                    messages=render_html(ReplyBuilder().line(notice.text).build()), created=monitor.now())
    finally:
        box.close()


def cmd_run(args: argparse.Namespace) -> int:
    from .run import run

    monitor = _open(args)
    try:
        return run(monitor, console=args.console)
    finally:
        monitor.close()


def cmd_ingest(args: argparse.Namespace) -> int:
    from watchers.pipeline import DUPLICATE, GONE, IMPORTED, REJECTED, Pipeline, render_finding

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
            if not path.is_file():
                print(text(lang, "ingest.cli.missing", file=name))
                failed = True
                continue
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
                for finding in result.findings[:3]:
                    print(text(lang, "ingest.cli.first", problem=render_finding(finding, lang)))
            else:
                failed = True
                print(text(lang, "ingest.cli.missing" if result.status == GONE else "ingest.cli.retry", file=name))
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

    from .reminders import deliver_reminders, send_via_telegram
    from .runtime import Outgoing

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
        admins_reachable = any(p.telegram_id for p in monitor.catalogue.admins) or monitor.settings.access.admin_chat
        if not admins_reachable and any(r.recipient == ADMINS for r in due):
            sys.stderr.write(state.t("rem.cli_no_admins") + "\n")
        if args.send and due:
            if monitor.store.read_only:
                # The running monitor sends reminders itself; a second sender would send them twice.
                raise CliError(text(lang, "store_locked", path=monitor.store.path, pid=monitor.store.holder))
            outgoing: list[Outgoing] = []
            bundles = deliver_reminders(monitor, outgoing.append, now)
            token = monitor.settings.telegram.token
            if token:
                problems, waiting = send_via_telegram(monitor, outgoing, token=token,
                                                      api_url=monitor.settings.telegram.api_url)
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


def cmd_report(args: argparse.Namespace) -> int:
    """The committee report as of today: md/html to -o FILE or stdout; xlsx to -o FILE or ./bericht_JJJJ-MM-TT.xlsx.

    A workbook is binary, so without -o it is written into the current folder and its path printed.
    """
    from commands.render_report import render
    from commands.report import build_report

    monitor = _open(args)
    try:
        lang = monitor.settings.language
        today = monitor.now().date()
        report = build_report(monitor.state, today, charts=args.format == "html")
        data, _ = render(report, args.format)
    finally:
        monitor.close()
    if args.output:
        path = Path(args.output)
    elif args.format == "xlsx":
        path = Path.cwd() / f"bericht_{today.isoformat()}.xlsx"
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
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ask", parents=[common], help="einen Chat-Befehl beantworten")
    p.add_argument("--as", dest="as_user", type=int, metavar="USER_ID", help="als dieser Telegram-Nutzer fragen")
    p.add_argument("message", nargs="+", metavar="BEFEHL", help='z. B. "/status M21"')
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("ingest", parents=[common], help="Indikatordateien importieren")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("reminders", parents=[common], help="fällige Erinnerungen zeigen oder senden")
    p.add_argument("--at", metavar="ISO_DATETIME", help="Zeitpunkt, z. B. 2018-09-19T09:00")
    p.add_argument("--send", action="store_true", help="die Erinnerungen senden")
    p.set_defaults(func=cmd_reminders)

    p = sub.add_parser("report", parents=[common], help="Bericht für den Sozialausschuss")
    p.add_argument("--format", choices=("md", "html", "xlsx"), default="md")
    p.add_argument("-o", dest="output", metavar="FILE")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("check", parents=[common], help="Einstellungen und Katalog prüfen")
    p.set_defaults(func=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `sozialmonitor` command. Called without `argv` (the installed command, `python -m bot`), a command
    other than `run` ends the process right after its output is flushed (see `_exit`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    status = _call(args)
    if argv is None and args.command != "run":
        _exit(status)
    return status


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
        if exc.backup:
            message = text(_lang(), "store_unreadable", path=exc.path, reason=exc.reason, backup=exc.backup)
        else:
            message = text(_lang(), "store_unreadable_no_backup", path=exc.path, reason=exc.reason,
                           folder=exc.path.parent / "sicherungen")
        sys.stderr.write(message + "\n")
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
