"""What a command answers, for the commands: re-exported from `storage.messages`, where the types live."""

from storage.messages import Attachment, Outgoing, Reply, ReplyBuilder, Span, b, code, i

__all__ = ["Attachment", "Outgoing", "Reply", "ReplyBuilder", "Span", "b", "code", "i"]
