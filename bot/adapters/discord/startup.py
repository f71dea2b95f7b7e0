"""Starting the Discord client: waiting for it to be ready, and saying in one line what stopped
it."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.adapters.base import AdapterStartError
from videobot.config import DiscordConfig
from videobot.logs import redact

log = logging.getLogger(__name__)

STARTUP_TIMEOUT_S = 60.0


class DiscordStartError(AdapterStartError):
    """The Discord adapter could not start."""


def start_error(exc: Exception, config: DiscordConfig) -> DiscordStartError:
    """What stopped the start, in one line an operator can act on; never the token."""
    if isinstance(exc, discord.LoginFailure):
        return DiscordStartError("Discord refused discord.token; check it in the Developer "
                                 "Portal (Bot, Reset Token)")
    if isinstance(exc, discord.HTTPException):
        reason = f"{exc.status} {exc.text or exc.response.reason}"
        return DiscordStartError(
            f"Discord answered {reason} at start; check discord.guild_ids and that the bot was "
            "added with the bot and applications.commands scopes")
    if isinstance(exc, TimeoutError):
        return DiscordStartError(f"Discord was not ready within {STARTUP_TIMEOUT_S:.0f} s; "
                                 "check the network and discord.gateway_url")
    reason = redact(str(exc) or type(exc).__name__, [config.token], "<token>")
    return DiscordStartError(f"could not reach Discord at discord.api_base_url and "
                             f"discord.gateway_url ({reason}); check the addresses and any "
                             "proxy setting")


async def until_ready(client: discord.Client, gateway: asyncio.Task[None]) -> None:
    """Return once the client is ready; raise if the gateway ended or it took too long."""
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        await asyncio.wait({ready, gateway}, timeout=STARTUP_TIMEOUT_S,
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        ready.cancel()
    if gateway.done():
        gateway.result()
        raise RuntimeError("the Discord gateway connection ended during start")
    if not client.is_ready():
        raise TimeoutError(f"Discord was not ready within {STARTUP_TIMEOUT_S:.0f} s")


def log_gateway_end(task: asyncio.Task[None]) -> None:
    """Log how the gateway connection failed, if it did."""
    if not task.cancelled() and task.exception() is not None:
        log.error("the Discord gateway connection failed", exc_info=task.exception())
