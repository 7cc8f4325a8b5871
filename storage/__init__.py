"""The data model and its persistence: catalogue, settings, periods, the message model, the crash-safe store and
the outbox. Imports none of the other packages (see ARCHITECTURE.md)."""
