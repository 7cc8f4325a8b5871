"""The package rules of ARCHITECTURE.md, asserted from the import graph of the source files.

Every `import` counts, at module level or inside a function (a late import is still a dependency). The graph is
read with `ast` from the files themselves, so nothing is imported to check it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("storage", "watchers", "commands", "bot")

# What each package may import of the others. bot/ is the composition root and may import everything.
ALLOWED: dict[str, set[str]] = {
    "storage": set(),
    "watchers": {"storage"},  # and, until they are moved, the entries of WATCHERS_USE_COMMANDS
    "commands": {"storage"},  # and the one entry of COMMANDS_USE_WATCHERS
    "bot": {"storage", "watchers", "commands"},
}

# The watchers/ -> commands/ imports that remain, each with why it is still there. This list only shrinks:
# an import that is not on it fails the test, and so does an entry that is no longer used.
WATCHERS_USE_COMMANDS: dict[tuple[str, str], str] = {}  # none left: the ingest words nothing (commands/ does)

# The one commands/ -> watchers/ import: the renderer of the ingest words its results from their types. The module it
# reads holds data types only and imports nothing but storage/ and the standard library (a test below says so), so
# commands/ depends on no part of the ingest's machinery.
COMMANDS_USE_WATCHERS: dict[tuple[str, str], str] = {
    ("commands.ingest_words", "watchers.results"): "words findings, results and alerts of the ingest (data types)",
}
RESULT_TYPES = "watchers.results"

# Third-party libraries that belong to one package alone (STYLE.md): the store, the chat, the folder and its files,
# and what draws and typesets the report.
OWNED_LIBRARIES = {"tinydb": "storage", "telegram": "bot", "watchdog": "watchers", "python_calamine": "watchers",
                   "pandas": "watchers", "nio": "bot", "aiosmtplib": "bot",
                   "matplotlib": "commands", "jinja2": "commands", "weasyprint": "commands", "xlsxwriter": "commands"}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "watchers.pipeline"
    target: str  # the imported module, e.g. "commands.texts" (a name imported from a package counts as its module)
    line: int
    at_import: bool  # a statement of the module's own body, run when the module is imported

    @property
    def where(self) -> str:
        return f"{self.source.replace('.', '/')}.py:{self.line} imports {self.target}"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _imports_of(path: Path) -> Iterator[Import]:
    source = _module_name(path)
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(source, alias.name, node.lineno, id(node) in top)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                # `from commands import fmt` depends on commands.fmt; `from commands.fmt import day` on commands.fmt.
                sub = f"{module}.{alias.name}"
                yield Import(source, sub if _is_module(sub) else module, node.lineno, id(node) in top)


def _all_imports() -> list[Import]:
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += _imports_of(path)
    return found


IMPORTS = _all_imports()


def _package(module: str) -> str:
    return module.partition(".")[0]


def _between_packages() -> list[Import]:
    return [i for i in IMPORTS if _package(i.target) in PACKAGES and _package(i.target) != _package(i.source)]


def test_the_graph_is_read_from_every_package() -> None:
    # A reader that found nothing would pass every rule below.
    sources = {_package(i.source) for i in IMPORTS}
    assert sources == set(PACKAGES)
    assert any(i.source == "bot.workspace" and i.target == "storage.store" for i in IMPORTS)
    # Function-local imports count too: the pipeline imports commands.outgoing only inside its methods.
    assert any(i.source == "bot.workspace" and i.target == "watchers.pipeline" for i in IMPORTS)


@pytest.mark.parametrize("package", PACKAGES)
def test_package_imports_only_what_it_may(package: str) -> None:
    wrong = [i.where for i in _between_packages()
             if _package(i.source) == package and _package(i.target) not in ALLOWED[package]
             and (i.source, i.target) not in WATCHERS_USE_COMMANDS | COMMANDS_USE_WATCHERS]
    assert not wrong, "imports against the package rules (ARCHITECTURE.md):\n" + "\n".join(wrong)


def test_watchers_use_of_commands_is_on_the_list_and_the_list_is_current() -> None:
    used = {(i.source, i.target) for i in _between_packages()
            if _package(i.source) == "watchers" and _package(i.target) == "commands"}
    stale = sorted(set(WATCHERS_USE_COMMANDS) - used)
    assert not stale, f"no longer imported, remove from WATCHERS_USE_COMMANDS: {stale}"


def test_commands_read_only_the_result_types_of_the_ingest() -> None:
    used = {(i.source, i.target) for i in _between_packages()
            if _package(i.source) == "commands" and _package(i.target) == "watchers"}
    assert used == set(COMMANDS_USE_WATCHERS)
    assert all(target == RESULT_TYPES for _source, target in used)
    # The result types depend on nothing of the ingest: storage/ and the standard library only, at any level.
    imports = [i for i in IMPORTS if i.source == RESULT_TYPES]
    assert imports, "the result types were not read"
    foreign = [i.where for i in imports
               if _package(i.target) != "storage" and _package(i.target) not in sys.stdlib_module_names]
    assert not foreign, "the result types must import only storage/ and the standard library:\n" + "\n".join(foreign)


def test_no_cycles_between_packages() -> None:
    edges: dict[str, set[str]] = {p: set() for p in PACKAGES}
    for i in _between_packages():
        edges[_package(i.source)].add(_package(i.target))

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in edges[start])

    cyclic = [p for p in PACKAGES if reaches(p, p)]
    assert not cyclic, f"packages on an import cycle: {cyclic} ({edges})"


def test_no_cycles_between_modules_at_import_time() -> None:
    # Module-level imports only: a function-local one runs after both modules are whole, so it cannot meet a half one.
    edges: dict[str, set[str]] = {}
    for i in IMPORTS:
        if i.at_import and _package(i.target) in PACKAGES:
            edges.setdefault(i.source, set()).add(i.target)
    cycles: list[str] = []
    for start in edges:
        stack: list[tuple[str, tuple[str, ...]]] = [(start, (start,))]
        while stack:
            node, path = stack.pop()
            for nxt in edges.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join((*path, nxt)))
                elif nxt not in path and nxt > start:  # each cycle once, from its smallest module
                    stack.append((nxt, (*path, nxt)))
    assert not cycles, "module import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize(("library", "owner"), sorted(OWNED_LIBRARIES.items()))
def test_library_belongs_to_one_package(library: str, owner: str) -> None:
    users = {i.where for i in IMPORTS if _package(i.target) == library and _package(i.source) != owner}
    assert not users, f"{library} belongs to {owner}/ alone:\n" + "\n".join(sorted(users))


def _text_lookups(path: Path, keys: set[str], codes: set[str]) -> Iterator[str]:
    """Where a module words something itself: a call of a text function, or a text's key written out (as a string,
    or as the start of an f-string such as f"ingest.kind.{kind}"). A finding's code may be a key: a reader's problem
    is keyed by its code (`code` and `code.hint`), and a check's code is worded by commands/ingest_words.py."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name in ("text", "phrase", "t", "_", "gettext"):
                yield f"{node.lineno}: calls {ast.unparse(func)}()"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            value = node.value
            if value in keys and value not in codes and f"{value}.hint" not in keys:
                yield f"{node.lineno}: names the text {value!r}"
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            start = str(node.values[0].value)
            if len(start) > 1 and start[0].isalpha() and start.endswith(".") and any(k.startswith(start) for k in keys):
                yield f"{node.lineno}: builds a text's key {ast.unparse(node)}"


def test_watchers_word_nothing() -> None:
    # The ingest's findings, results and notices are data (watchers/results.py); commands/ words them when shown.
    from commands.ingest_words import CHECK_CODES
    from commands.texts import LANGUAGES, catalogue

    keys = {key for lang in LANGUAGES for key in catalogue(lang)}
    found = [f"{path.relative_to(ROOT).as_posix()}:{where}" for path in sorted((ROOT / "watchers").rglob("*.py"))
             for where in _text_lookups(path, keys, set(CHECK_CODES))]
    assert not found, "watchers/ words a text itself:\n" + "\n".join(found)


def test_the_text_lookup_test_sees_a_lookup(tmp_path: Path) -> None:
    source = tmp_path / "worded.py"
    source.write_text('def f(lang, kind, state):\n    state.t("pf.refused")\n'
                      '    return text(lang, f"ingest.kind.{kind}"), "ingest.notice.imported", "read.bad_number"\n',
                      encoding="utf-8")
    from commands.ingest_words import CHECK_CODES
    from commands.texts import catalogue

    found = list(_text_lookups(source, set(catalogue("de")), set(CHECK_CODES)))
    # Two calls, two keys and a built key; the reader's problem code is no lookup.
    assert sorted(f.split(": ")[1].split()[0] for f in found) == ["builds", "calls", "calls", "names", "names"], found
    assert not any("read.bad_number" in f for f in found), found


# Private attributes used outside the class that defines them, each with why; all are third-party internals.
# Everything else that starts with one underscore is reached only from inside its own class (the store uses TinyDB
# through its public API).
FOREIGN_PRIVATES: dict[tuple[str, str], str] = {
    ("bot/cli.py", "argparse._"): "argparse's gettext hook: the only way to word its messages in German",
    ("bot/cli.py", "os._exit"): "the documented exit without teardown",
    ("bot/telegram_bot.py", "exc._retry_after"): "PTB's RetryAfter: its public property warns in v22",
}


def _own_names(cls: ast.ClassDef) -> set[str]:
    """What a class defines: methods, class attributes, slots and the attributes its methods set on self."""
    names: set[str] = set()
    for node in ast.walk(cls):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node is not cls:
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
              and isinstance(node.value, ast.Name) and node.value.id == "self"):
            names.add(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.add(node.value)  # __slots__ entries
    return names


def _foreign_privates(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside: dict[int, set[str]] = {}  # id(node) -> names of the classes around it
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        own = _own_names(cls)
        for node in ast.walk(cls):
            inside.setdefault(id(node), set()).update(own)
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")):
            continue
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            continue
        if node.attr in inside.get(id(node), set()):
            continue  # another instance of the same class (e.g. `other._entries` in __eq__)
        yield ast.unparse(node), node.lineno


def test_private_attributes_stay_inside_their_class() -> None:
    found: dict[tuple[str, str], int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for expression, line in _foreign_privates(path):
                found.setdefault((rel, expression), line)
    wrong = [f"{rel}:{line} uses {expr}" for (rel, expr), line in sorted(found.items())
             if (rel, expr) not in FOREIGN_PRIVATES]
    assert not wrong, "private attributes used outside their class:\n" + "\n".join(wrong)
