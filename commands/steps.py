"""Outstanding steps (ausstehende Schritte): /schritte lists them, /schritt adds one or marks one done."""

from __future__ import annotations

from datetime import datetime

from storage.models import Step

from . import fmt
from .meetings import parse_day
from .registry import ADMIN, Caller, UsageError, command, take_measure
from .reminders import measure_label
from .reply import Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["ALL_WORDS"]

ALL_WORDS = ("alle", "all", "allgemein")  # steps that concern every measure are stored with measure ""


def _measure_or_all(state: State, args: list[str], name: str) -> tuple[str, list[str]]:
    if args and args[0].casefold() in ALL_WORDS:
        return "", args[1:]
    measure, rest = take_measure(state, args, name)
    return measure.id, rest


def _step_line(state: State, step: Step, today) -> str:
    due = ""
    if step.due:
        key = "st.due_late" if step.due < today else "detail.step_due"
        due = state.t(key, day=fmt.day(step.due, state.lang))
    who = state.t("detail.step_who", who=step.who) if step.who else ""
    return state.t("detail.step", number=step.number, text=step.text, due=due, who=who)


@command("schritte", en="steps", usage="[Mxx]")
def schritte(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die ausstehenden Schritte, nummeriert, mit Frist und Zuständigkeit (alle oder einer Maßnahme)."""
    today = state.local(now).date()
    if args:
        measure, rest = _measure_or_all(state, args, "schritte")
        if rest:
            raise UsageError("st.too_many", found=" ".join(rest))
        steps = state.store.steps(measure)
        if not steps:
            return ReplyBuilder().line(state.t("st.none_of", measure=measure_label(state, measure))).build()
    else:
        steps = state.store.steps()
        if not steps:
            return ReplyBuilder().line(state.t("st.none")).build()
    out = ReplyBuilder().line(b(state.t("st.title", n=len(steps))))
    current = None
    for step in steps:
        if step.measure != current:
            current = step.measure
            out.blank().line(b(measure_label(state, step.measure)))
        out.line(i(_step_line(state, step, today)))
    return out.build()


@command("schritt", en="step", access=ADMIN, usage="Mxx neu TEXT [bis TT.MM.JJJJ] | Mxx erledigt N",
         usage_en="Mxx new TEXT [by DD.MM.YYYY] | Mxx done N", writes=True)
def schritt(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Einen ausstehenden Schritt anlegen oder als erledigt markieren (bleibt in der Historie)."""
    measure, rest = _measure_or_all(state, args, "schritt")
    label = measure_label(state, measure)
    today = state.local(now).date()
    if not rest:
        raise UsageError("st.missing_action")
    action, rest = rest[0].casefold(), rest[1:]
    if action in ("neu", "new"):
        due = None
        if len(rest) >= 2 and rest[-2].casefold() in ("bis", "by"):
            due = parse_day(rest[-1])
            rest = rest[:-2]
            if due < today:
                raise UsageError("st.past_due", day=fmt.day(due, state.lang))
        text = " ".join(rest).strip()
        if not text:
            raise UsageError("st.missing_text")
        step = state.store.add_step(measure, text, due=due, created=today)
        return ReplyBuilder().line(state.t("st.added", measure=label, number=step.number)).line(
            i(_step_line(state, step, today))).build()
    if action in ("erledigt", "done"):
        if len(rest) != 1 or not rest[0].isdigit():
            raise UsageError("st.bad_number", found=" ".join(rest))
        number = int(rest[0])
        done = state.store.complete_step(measure, number, done_on=today, by=caller.name or state.t("mt.operator"))
        if done is None:
            open_numbers = ", ".join(str(s.number) for s in state.store.steps(measure)) or state.t("none")
            raise UsageError("st.no_such_step", measure=label, number=number, open=open_numbers)
        return ReplyBuilder().line(state.t("st.done", measure=label, number=number, text=done.text)).build()
    raise UsageError("st.bad_action", found=action)
