"""The same commands everywhere: the core's list of user commands is the source, and the
console, Telegram (its command menu, as the real client registers it with the Bot API fake)
and Discord (its slash commands, as the real client syncs them to the Discord fake) offer
exactly those (the docs' menus: tests/test_docs.py)."""

from __future__ import annotations

import io
import re

from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from bot.core import replies
from bot.core.commands import USER_COMMANDS, Core
from storage.store import Store
from tests.fakes.discord_api import TOKEN as DISCORD_TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from videobot.config import Config, DiscordConfig, TelegramConfig
from videobot.users import UserRef

#: Discord's option type numbers (application command option types).
INTEGER, STRING, NUMBER, ATTACHMENT = 4, 3, 10, 11
#: The platforms' admin entry points, beside the user commands.
ADMIN_ENTRIES = {"videoadmin"}
#: Discord's commands in a message's Apps menu (application command type 3), beside them.
MESSAGE_COMMANDS = {"Animate"}


async def console_commands(core: Core, store: Store) -> list[str]:
    """The user commands the console answers (anything else is an unknown command)."""
    typed = "".join(f"/{name}\n" for name in ("video a ball", *USER_COMMANDS[1:], "nonsense",
                                                "quit"))
    said: list[str] = []
    console = ConsoleAdapter(core=core, store=store, user_name="alice",
                             stdin=io.StringIO(typed), write=said.append)
    await console.run()
    answered = [name for name, text in zip(USER_COMMANDS, said, strict=False)
                if not text.startswith("Unknown command")]
    assert said[len(USER_COMMANDS)] == replies.unknown_command("nonsense")
    return answered


async def telegram_menu(core: Core, store: Store, config: Config) -> list[str]:
    async with FakeTelegram() as api:
        adapter = TelegramAdapter(core=core, store=store, work_dir=config.data_dir / "uploads",
                                  config=TelegramConfig(token=api.token,
                                                        api_base_url=api.base_url))
        await adapter.start()
        await adapter.stop()
        [menu] = api.calls_of("setMyCommands")
    return [command["command"] for command in menu.params["commands"]]


async def discord_commands(core: Core, store: Store,
                           config: Config) -> dict[str, dict[str, object]]:
    fake = FakeDiscord()
    await fake.start()
    try:
        adapter = DiscordAdapter(core=core, store=store, work_dir=config.data_dir / "uploads",
                                 guild_ready_timeout=0.1, config=DiscordConfig(
                                     token=DISCORD_TOKEN, api_base_url=fake.api_base_url,
                                     gateway_url=fake.gateway_url))
        await adapter.start()
        await adapter.stop()
        [sync] = fake.sent("PUT", r"^/applications/\d+/commands$")
    finally:
        await fake.stop()
    return {command["name"]: command for command in sync.body}


async def test_every_platform_offers_the_cores_user_commands(store: Store,
                                                            config: Config) -> None:
    core = Core(store=store, config=config)
    for name in USER_COMMANDS:
        reply = await core.handle(UserRef("console", "bob"), f"/{name}")
        assert reply.text != replies.unknown_command(name)
        assert re.search(rf"^/{name}\b", replies.HELP, re.M), f"/help does not name /{name}"
    assert await console_commands(core, store) == list(USER_COMMANDS)
    assert await telegram_menu(core, store, config) == list(USER_COMMANDS)
    discord = await discord_commands(core, store, config)
    assert [name for name in discord
            if name not in ADMIN_ENTRIES | MESSAGE_COMMANDS] == list(USER_COMMANDS)
    assert {name for name in discord if discord[name].get("type") == 3} == MESSAGE_COMMANDS
    # Typed options on Discord: a job is a whole number of at least 1; the rest take none.
    for name in ("status", "cancel", "describe"):
        [job] = discord[name]["options"]  # type: ignore[misc]
        assert (job["name"], job["type"], job["min_value"], job.get("required", False)) == (
            "job", INTEGER, 1, False)
    for name in ("queue", "quota", "history", "help"):
        assert not discord[name].get("options")
    video = {o["name"]: o["type"] for o in discord["video"]["options"]}  # type: ignore[attr-defined]
    assert video == {"prompt": STRING, "negative_prompt": STRING, "frames": INTEGER,
                     "fps": INTEGER, "width": INTEGER, "height": INTEGER, "steps": INTEGER,
                     "guidance": NUMBER, "seed": INTEGER, "preset": STRING,
                     "image": ATTACHMENT}


def test_the_help_text_is_the_same_list() -> None:
    assert re.findall(r"^/([a-z]+)", replies.HELP, re.M) == list(USER_COMMANDS)
