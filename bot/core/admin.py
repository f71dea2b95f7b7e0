"""`/admin …`: the operator commands, the same words in every chat and in the shell. Who may
run them is decided here, on the server side, from the config's admin lists."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.core import replies
from bot.core.apikeys import ApiKeyCommands
from bot.core.errors import CommandError
from storage.admin import AdminStore
from storage.store import Store
from storage.users import UserDirectory
from storage.workers import WorkerRegistry
from videobot.config import Config
from videobot.config_bounds import MAX_WINDOW_HOURS
from videobot.users import BadUserName, UserRef, parse_user

SHELL = "shell"
_MENTION = re.compile(r"^<@!?(\d+)>$")
_USERNAME = re.compile(r"^@[A-Za-z0-9_]{1,64}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 3600}
#: The longest credit window an admin may set, and the longest period of `stats --since`:
#: a date further back than that overflows.
LONGEST_PERIOD = timedelta(hours=MAX_WINDOW_HOURS)
#: A ban's reason is shown to the banned user with every refusal: a sentence, not an essay.
MAX_BAN_REASON_CHARS = 200


def is_admin(user: UserRef, config: Config) -> bool:
    """Whether `user` is in their platform's admin list (the shell always is)."""
    if user.platform == SHELL:
        return True
    if user.platform == "console":
        return user.platform_user_id in config.console.admins
    platform = {"telegram": config.telegram, "discord": config.discord}.get(user.platform)
    ids = {str(admin) for admin in platform.admins} if platform is not None else set()
    return user.platform_user_id in ids


class AdminCommands:
    """Parse and run one `/admin` line for an actor already known to be an admin."""

    def __init__(self, *, store: Store, config: Config) -> None:
        self.store = store
        self.admin_store = AdminStore(store.context)
        self.directory = UserDirectory(store.context)
        self.apikeys = ApiKeyCommands(store=store, config=config)
        self.config = config
        self._commands: dict[str, Callable[[UserRef, list[str]], Awaitable[str]]] = {
            "quota": self.quota, "ban": self.ban, "unban": self.unban, "queue": self.queue,
            "cancel": self.cancel, "pause": self.pause, "resume": self.resume,
            "stats": self.stats, "audit": self.audit, "workers": self.workers,
        }

    async def run(self, actor: UserRef, args: str, replied_to: UserRef | None = None, *,
                  private: bool = False) -> str:
        """Run `/admin args`. `replied_to`: the author of the message the admin's command
        replies to (Telegram), who is the user of a command that names none. `private`: only
        the actor reads the answer (a new API key may be shown)."""
        words = args.split()
        if words and words[0].lower() == "apikey":
            return await self.apikeys.admin(actor, self.target_user, words[1:],
                                            private=private or actor.platform == SHELL)
        if not words or words[0].lower() not in self._commands:
            return replies.ADMIN_HELP
        name, rest = words[0].lower(), words[1:]
        if replied_to is not None and name in _NAMES_A_USER:
            rest = _with_replied_user(name, rest, replied_to)
        return await self._commands[name](actor, rest)

    async def quota(self, actor: UserRef, words: list[str]) -> str:
        action, rest = (words[0].lower(), words[1:]) if words else ("", [])
        if action == "default" and len(rest) == 1:
            await self.admin_store.set_default_quota(actor.key, _credits(rest[0]))
            return replies.quota_default_set(_credits(rest[0]))
        if action == "show" and len(rest) == 1:
            user = await self.target_user(rest[0], actor)
            return replies.quota_summary(await self.store.submissions.quota(user), user.key)
        if action == "reset" and len(rest) == 1:
            user = await self.target_user(rest[0], actor)
            await self.admin_store.reset_quota(actor.key, user)
            return replies.quota_reset(user.key)
        if action == "set" and len(rest) in (2, 4) and rest[2:3] in ([], ["--window"]):
            user, credits = await self.target_user(rest[0], actor), _credits(rest[1])
            window = (duration(rest[3], longest=LONGEST_PERIOD) / timedelta(hours=1)
                      if len(rest) == 4 else None)
            await self.admin_store.set_quota(actor.key, user, credits, window)
            return replies.quota_set(user.key, credits, window)
        raise CommandError(replies.ADMIN_QUOTA_USAGE)

    async def ban(self, actor: UserRef, words: list[str]) -> str:
        if not words:
            raise CommandError("write /admin ban <user> [reason]")
        user = await self.target_user(words[0], actor)
        reason = " ".join(words[1:])
        if len(reason) > MAX_BAN_REASON_CHARS:
            raise CommandError(replies.ban_reason_too_long(len(reason), MAX_BAN_REASON_CHARS))
        cancelled = await self.admin_store.ban(actor.key, user, reason)
        return replies.banned(user.key, cancelled)

    async def unban(self, actor: UserRef, words: list[str]) -> str:
        if len(words) != 1:
            raise CommandError("write /admin unban <user>")
        user = await self.target_user(words[0], actor)
        return replies.unbanned(user.key, await self.admin_store.unban(actor.key, user))

    async def target_user(self, text: str, actor: UserRef) -> UserRef:
        """A user as chat names them: `@name` (a username the bot has seen), a mention, a
        numeric id on the actor's platform, or `<platform>:<id>` (`telegram:@name` too)."""
        text = text.strip()
        platform, sep, rest = text.partition(":")
        if _USERNAME.match(text) and actor.platform != SHELL:
            return await self._by_username(actor.platform, text)
        if sep and _USERNAME.match(rest):
            return await self._by_username(platform, rest)
        return target_user(text, actor)

    async def _by_username(self, platform: str, username: str) -> UserRef:
        found = await self.directory.by_username(platform, username)
        if len(found) == 1:
            return found[0]
        if not found:
            raise CommandError(f"I have not seen {username} on {platform}: they must write to "
                               "me once, or name them by numeric id")
        raise CommandError(f"{username} has been the name of more than one {platform} user; "
                           "name them by numeric id")

    async def queue(self, _actor: UserRef, _words: list[str]) -> str:
        listing = replies.admin_queue_listing(await self.store.jobs.active_jobs())
        paused = await self.admin_store.paused()
        return f"{replies.QUEUE_PAUSED}\n{listing}" if paused else listing

    async def workers(self, _actor: UserRef, _words: list[str]) -> str:
        registry = WorkerRegistry(self.store.engine, clock=self.store.clock)
        lease = timedelta(seconds=self.config.queue.lease_seconds)
        return replies.workers_listing(await registry.all(), self.store.clock(), lease)

    async def cancel(self, actor: UserRef, words: list[str]) -> str:
        text = words[0].removeprefix("#") if len(words) == 1 else ""
        if not text.isdecimal() or len(text) > 18:
            raise CommandError("write /admin cancel <job number>")
        await self.admin_store.cancel(actor.key, int(text))
        return replies.cancel_requested(await self.store.jobs.require(int(text)))

    async def pause(self, actor: UserRef, _words: list[str]) -> str:
        await self.admin_store.set_paused(actor.key, True)
        return replies.QUEUE_PAUSED

    async def resume(self, actor: UserRef, _words: list[str]) -> str:
        await self.admin_store.set_paused(actor.key, False)
        return replies.QUEUE_RESUMED

    async def stats(self, _actor: UserRef, words: list[str]) -> str:
        if words and (len(words) != 2 or words[0] != "--since"):
            raise CommandError("write /admin stats [--since 24h]")
        period = duration(words[1], longest=LONGEST_PERIOD) if words else timedelta(hours=24)
        stats = await self.admin_store.stats(self.store.clock() - period)
        return replies.stats_report(stats, period)

    async def audit(self, _actor: UserRef, _words: list[str]) -> str:
        return replies.audit_listing(await self.admin_store.audit())


#: The commands whose first word after their action names a user.
_NAMES_A_USER = ("quota", "ban", "unban")


def _with_replied_user(name: str, words: list[str], replied_to: UserRef) -> list[str]:
    """Put the replied-to user in where the words name no user: `ban spamming`, `unban`,
    `quota show`, `quota set 50`."""
    user = replied_to.key
    if name == "ban" and not (words and _names_a_user(words[0])):
        return [user, *words]
    if name == "unban" and not words:
        return [user]
    if name == "quota" and words:
        action, rest = words[0].lower(), words[1:]
        short = {"show": [], "reset": []}.get(action) == rest or (
            action == "set" and (len(rest) == 1 or (len(rest) == 3 and rest[1] == "--window")))
        if short:
            return [words[0], user, *rest]
    return words


def _names_a_user(word: str) -> bool:
    return bool(_USERNAME.match(word) or _MENTION.match(word) or ":" in word)


def target_user(text: str, actor: UserRef) -> UserRef:
    """`<platform>:<id>`, or a numeric id (or a Discord mention) on the actor's platform."""
    text = text.strip()
    mention = _MENTION.match(text)
    if mention is not None:
        text = mention.group(1)
    if text.isdecimal() and actor.platform != SHELL:
        return UserRef(actor.platform, text)
    try:
        return parse_user(text)
    except BadUserName as exc:
        raise CommandError(str(exc)) from None


def duration(text: str, *, longest: timedelta) -> timedelta:
    """`90s`, `30m`, `24h`, `7d`, or a bare number of hours; at most `longest`."""
    match = _DURATION.match(text.strip().lower())
    if match is None or float(match.group(1)) <= 0:
        raise CommandError(f"{text!r} is not a duration; write e.g. 30m, 24h or 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds > longest.total_seconds():
        raise CommandError(replies.duration_too_long(text, longest))
    return timedelta(seconds=seconds)


def _credits(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1e9:
        raise CommandError(f"{text!r} is not a number of credits")
    return value
