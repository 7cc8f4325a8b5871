"""The command registry: `@command` records metadata, `dispatch` parses, checks access and calls."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.catalogue import normalize_measure
from storage.jsonstore import StoreError
from storage.models import Measure, Person

from . import texts
from .reply import Reply, ReplyBuilder
from .state import State

__all__ = [
    "ADMIN",
    "ANYONE",
    "MEMBER",
    "PARTICIPANT",
    "Caller",
    "Command",
    "UsageError",
    "all_commands",
    "command",
    "dispatch",
    "find",
    "lazy_modules",
    "no_more",
    "take_measure",
]

ANYONE, MEMBER, PARTICIPANT, ADMIN = "anyone", "member", "participant", "admin"


@dataclass(frozen=True)
class Caller:
    """Who asks. `operator` is the local console/`ask` user: admin rights, no Telegram id."""

    user_id: int | None = None
    chat_id: int | None = None
    person: Person | None = None
    operator: bool = False
    group_member: bool = False  # writes in a team group listed in the settings
    language: str | None = None
    channel: str = ""  # where the message came from: "telegram", "matrix"; "" = the console or `ask`

    @property
    def is_admin(self) -> bool:
        return self.operator or (self.person is not None and self.person.is_admin)

    @property
    def is_member(self) -> bool:
        return self.operator or self.person is not None or self.group_member

    @property
    def name(self) -> str:
        return self.person.name if self.person else ""


Handler = Callable[[State, list[str], Caller, datetime], Reply]


@dataclass(frozen=True)
class Command:
    name: str
    en: str | None
    access: str
    usage: str
    usage_en: str
    func: Handler
    writes: bool = False  # changes the store: `ask` opens the store with its lock only for these

    @property
    def help(self) -> str:
        """German help: the first docstring line."""
        return (inspect.getdoc(self.func) or "").splitlines()[0]

    def help_text(self, lang: str) -> str:
        if lang == "en":
            from .texts import catalogue

            return catalogue("en").get(f"help.{self.name}", self.help)
        return self.help

    def names(self) -> tuple[str, ...]:
        return (self.name, self.en) if self.en and self.en != self.name else (self.name,)


_REGISTRY: dict[str, Command] = {}
_ORDER: list[Command] = []


def command(name: str, *, en: str | None = None, access: str = MEMBER, usage: str = "",
            usage_en: str | None = None, writes: bool = False) -> Callable[[Handler], Handler]:
    """Register a chat command; the decorated function's docstring is its help line.

    `writes` marks a command that may change the store; the others are answered from a store read without its
    lock (`sozialmonitor ask`), which refuses every write.
    """

    def register(func: Handler) -> Handler:
        cmd = Command(name, en, access, usage, usage if usage_en is None else usage_en, func, writes)
        for alias in cmd.names():
            if alias in _REGISTRY and _REGISTRY[alias].func is not func:
                raise ValueError(f"command /{alias} registered twice")
            _REGISTRY[alias] = cmd
        if cmd not in _ORDER:
            _ORDER.append(cmd)
        return func

    return register


# The order of the contract's command table: what people look for first comes first in /hilfe and the menu.
_HELP_ORDER = ("start", "hilfe", "status", "massnahmen", "termine", "protokolle", "unterschrieben", "indikatoren",
               "lieferungen", "trend", "verlauf", "vorlage", "bericht", "kalender", "schritte", "termin", "protokoll",
               "schritt", "erinnerungen")


# Command modules register when imported. Importing them all costs more than answering /status (icalendar,
# holidays, the report's charts), so `lazy_modules` names them with the commands each defines: `find` imports
# the one module a name needs, `all_commands` imports every one. A name the table lacks still works: a miss
# imports every module before the registry gives up on it.
_LAZY_NAMES: dict[str, str] = {}  # command name -> module that registers it, until imported
_LAZY_MODULES: list[str] = []  # command modules not yet imported


def lazy_modules(package: str, modules: Mapping[str, tuple[str, ...]]) -> None:
    """Register command modules (relative to `package`) to import on first need, with the names each defines."""
    for module, names in modules.items():
        qualified = f"{package}.{module}"
        _LAZY_MODULES.append(qualified)
        for name in names:
            _LAZY_NAMES[name] = qualified


def _load_all() -> None:
    for module in list(_LAZY_MODULES):
        importlib.import_module(module)
    _LAZY_MODULES.clear()


def all_commands() -> list[Command]:
    _load_all()
    rank = {name: n for n, name in enumerate(_HELP_ORDER)}
    return sorted(_ORDER, key=lambda c: rank.get(c.name, len(rank)))


def find(name: str) -> Command | None:
    key = name.casefold()
    cmd = _REGISTRY.get(key)
    if cmd is None and _LAZY_MODULES:
        module = _LAZY_NAMES.get(key)
        if module is not None:
            importlib.import_module(module)
        cmd = _REGISTRY.get(key)
        if cmd is None:
            _load_all()
            cmd = _REGISTRY.get(key)
    return cmd


class UsageError(Exception):
    """Bad arguments: carries the text key and its params; dispatch answers with status 'usage'."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def take_measure(state: State, args: list[str], command_name: str = "") -> tuple[Measure, list[str]]:
    """Take a measure id off the front of args ('M21', 'M 21', 'm21', '21')."""
    if not args:
        raise UsageError("missing_measure", command=command_name)
    token, rest = args[0], args[1:]
    if token.casefold() == "m" and rest:
        token, rest = token + rest[0], rest[1:]
    mid = normalize_measure(token)
    measure = state.catalogue.measures.get(mid) if mid else None
    if measure is None:
        raise UsageError("unknown_measure", found=token, known=", ".join(state.catalogue.measures))
    return measure, rest


def no_more(args: list[str]) -> None:
    """A command that takes nothing (more) refuses what is left, instead of silently ignoring it."""
    if args:
        raise UsageError("extra_args", found=" ".join(args))


def _allowed(cmd: Command, caller: Caller) -> str | None:
    """None if allowed, else the text key of the refusal."""
    if cmd.access == ANYONE:
        return None
    if not caller.is_member:
        return "denied.unknown"
    if cmd.access == ADMIN and not caller.is_admin:
        return "denied.admin"
    if cmd.access == PARTICIPANT and not caller.operator and not (caller.person and caller.person.measures):
        return "denied.participant"
    return None


def split_command(text: str) -> tuple[str, list[str]] | None:
    """'/status@bot M21' -> ('status', ['M21']); None if the text is no command."""
    text = text.strip()
    if not text.startswith("/"):
        return None
    parts = text[1:].split(maxsplit=1)  # any whitespace, a line break too, ends the command name
    if not parts:
        return "", []
    name = parts[0].split("@", 1)[0].casefold()
    return name, parts[1].split() if len(parts) > 1 else []


def dispatch(state: State, text: str, caller: Caller, now: datetime) -> Reply:
    """Answer one chat message. Never raises for user input: errors become a Reply with a status."""
    lang = caller.language or state.lang
    parsed = split_command(text)
    if parsed is None:
        return ReplyBuilder().line(state.t("not_a_command", lang=lang)).build("usage")
    name, args = parsed
    cmd = find(name)
    if cmd is None:
        if not caller.is_member:
            return ReplyBuilder().line(state.t("denied.unknown", lang=lang, user_id=caller.user_id)).build("denied")
        return ReplyBuilder().line(state.t("unknown_command", lang=lang, command=name)).build("usage")
    refusal = _allowed(cmd, caller)
    if refusal:
        return ReplyBuilder().line(
            state.t(refusal, lang=lang, command=name, user_id=caller.user_id)).build("denied")
    scoped = state.for_language(lang)
    try:
        return cmd.func(scoped, args, caller, now)
    except StoreError as exc:
        # e.g. the store is held by the running monitor: say so instead of failing.
        return ReplyBuilder().line(scoped.t(exc.code, **exc.params)).build("error")
    except UsageError as exc:
        builder = ReplyBuilder().line(texts.text(scoped.lang, exc.key, **{"command": name, **exc.params}))
        if exc.key not in ("unknown_measure",) and (cmd.usage or exc.key == "extra_args"):
            usage = cmd.usage if lang == "de" else cmd.usage_en
            builder.line(scoped.t("usage", command=name, usage=usage).rstrip())
        return builder.build("usage")
