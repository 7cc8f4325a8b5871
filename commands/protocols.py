"""Who must sign a protocol and who has not yet: one answer for status, list, report and reminders."""

from __future__ import annotations

from storage.models import Protocol

from .state import State

__all__ = ["missing", "signatories"]


def signatories(state: State, protocol: Protocol) -> list[str]:
    """The names recorded with the protocol; without any, the measure's participants in the catalogue."""
    if protocol.signatories:
        return list(protocol.signatories)
    return [p.name for p in state.catalogue.participants(protocol.measure)]


def missing(state: State, protocol: Protocol) -> list[str]:
    """Signatories of the protocol's current version who have not signed yet."""
    signed = {s.person for s in state.store.signatures(protocol.id)}
    return [name for name in signatories(state, protocol) if name not in signed]
