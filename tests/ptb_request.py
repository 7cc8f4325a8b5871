"""The fake Bot API in-process: python-telegram-bot's own HTTPXRequest over an httpx.MockTransport.

Everything above the transport is the real library (parameters, multipart encoding, error mapping,
timeouts), and :class:`~tests.fakebotapi.FakeTelegram` answers like it does over HTTP, so a test drives
``TelegramBot`` without sockets or server threads::

    telegram = InProcessTelegram()
    with telegram.serving(monkeypatch):
        bot = TelegramBot(monitor, token=telegram.token, limits=FAST)
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from telegram.ext import ApplicationBuilder
from telegram.request import HTTPXRequest

import bot.telegram_bot
from tests.fakebotapi import Answer, Exchange, FakeTelegram

__all__ = ["InProcessTelegram"]

# What ApplicationBuilder would hand to its own HTTPXRequest; recorded so that the fake's can take it.
_REQUEST_SETTINGS = ("connection_pool_size", "proxy", "socket_options", "connect_timeout", "read_timeout",
                     "write_timeout", "media_write_timeout", "pool_timeout", "http_version")


class InProcessTelegram(FakeTelegram):
    """The fake behind an httpx.MockTransport. `reachable` False: every request fails to connect."""

    reachable = True

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._handle)

    async def _handle(self, request: httpx.Request) -> httpx.Response:
        if not self.reachable:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        exchange = self.begin(request.url.path, request.headers.get("Content-Type", ""), request.content)
        answer = await self._answer(exchange)
        if answer.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        if answer.hold:
            read = (request.extensions.get("timeout") or {}).get("read")
            if read is not None and answer.hold > read:
                await asyncio.sleep(read)
                raise httpx.ReadTimeout("The read operation timed out", request=request)
            await asyncio.sleep(answer.hold)
        return httpx.Response(answer.status, content=answer.body, headers={"Content-Type": answer.content_type})

    async def _answer(self, exchange: Exchange) -> Answer:
        """Step the exchange; a long poll waits in the event loop (cancellable) until something changes."""
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def wake() -> None:
            with contextlib.suppress(RuntimeError):  # the bot's loop has closed
                loop.call_soon_threadsafe(changed.set)

        unwatch = self.watch(wake)
        try:
            while True:
                changed.clear()
                answer = self.step(exchange)
                if answer is not None:
                    return answer
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), max(0.0, exchange.deadline - time.monotonic()))
        finally:
            unwatch()

    def request(self, get_updates: bool, settings: dict[str, Any]) -> HTTPXRequest:
        """An HTTPXRequest as ApplicationBuilder would build it from `settings`, over this fake's transport."""
        pool = 1 if get_updates else 256
        return HTTPXRequest(**{"connection_pool_size": pool, **settings},
                            httpx_kwargs={"transport": self.transport()})

    @contextlib.contextmanager
    def serving(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessTelegram]:
        """Every Application that bot.telegram_bot builds meanwhile talks to this fake, and nothing leaves the
        process: an HTTP client built past the seam fails the test instead of reaching out."""
        monkeypatch.setattr(bot.telegram_bot, "ApplicationBuilder", _builder_for(self))

        async def refuse(transport: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
            with self._cond:
                self._errors.append(f"{request.method} {request.url.host}: an HTTP client without the fake")
            raise httpx.ConnectError("refused by the in-process fake", request=request)

        monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", refuse)
        yield self
        if self._errors:
            raise RuntimeError("the fake Bot API failed:\n" + "\n".join(self._errors))


def _builder_for(telegram: InProcessTelegram) -> type[ApplicationBuilder]:
    """PTB's ApplicationBuilder, with the request settings kept for the fake's HTTPXRequests instead."""

    class Builder(ApplicationBuilder):  # type: ignore[type-arg]
        def __init__(self) -> None:
            super().__init__()
            self.request_settings: dict[bool, dict[str, Any]] = {False: {}, True: {}}

        def build(self) -> Any:
            self.request(telegram.request(False, self.request_settings[False]))
            self.get_updates_request(telegram.request(True, self.request_settings[True]))
            return super().build()

    def keep(name: str, get_updates: bool) -> Callable[..., Any]:
        def setter(self: Builder, value: Any) -> Builder:
            self.request_settings[get_updates][name] = value
            return self

        return setter

    for name in _REQUEST_SETTINGS:
        setattr(Builder, name, keep(name, False))
        if name != "media_write_timeout":
            setattr(Builder, f"get_updates_{name}", keep(name, True))
    return Builder
