"""The commands every adapter offers, routed through one error handler."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.core import replies
from bot.core.admin import AdminCommands, is_admin
from bot.core.animating import animate_request
from bot.core.attachments import (
    AttachedImage,
    OpenImageFile,
    fetched,
    picture_of,
    stored_picture,
)
from bot.core.describe import submit_description
from bot.core.errors import INTERNAL_ERROR, CommandError
from bot.core.extending import Extensions
from bot.core.image_rules import check_picture
from bot.core.job_lookup import job_named
from bot.core.moderation import Blocklist
from bot.core.parsing import VideoOptions, parse_command, parse_video_options
from bot.core.requests import build_request, submission_tier
from bot.core.serving import ServedPresets
from bot.core.varying import Reruns
from storage.errors import StoreError
from storage.inputs import StoredInput, discard_input
from storage.models import JobKind
from storage.records import ApiOrigin, JobRecord
from storage.store import Store
from videobot.config import Config
from videobot.costs import credit_cost
from videobot.options import counts_steps
from videobot.params import RenderRequest
from videobot.text import UnsafeText, clean_text
from videobot.tiers import tier_of
from videobot.users import UserRef, with_printable_names

log = logging.getLogger(__name__)

#: The commands every platform offers its users, in the order menus show them: the source of
#: the console's, Telegram's and Discord's command lists (tests hold them to it).
USER_COMMANDS = ("video", "animate", "extend", "status", "cancel", "queue", "quota", "history",
                 "describe", "apikey", "help")
#: The commands that queue a clip (a submission records the user's username anyway).
SUBMITTING = frozenset(("video", "animate", "extend"))


@dataclass(frozen=True)
class Reply:
    """What to answer. `job` is set when the reply is about one job (for buttons, tracking)."""

    text: str
    job: JobRecord | None = None
    #: The command was refused or failed (the text says why); a page shows it as an error.
    refused: bool = False


@dataclass(frozen=True)
class Submission:
    """A job just queued, and what its acknowledgement tells: its place in the queue, the
    credits left, and the preset's notice."""

    job: JobRecord
    position: int
    credits_left: float
    notice: str = ""

    def acknowledgement(self) -> Reply:
        return Reply(replies.acknowledgement(self.job, self.position, self.credits_left,
                                             self.notice), self.job)


Handler = Callable[[UserRef, str, dict[str, Any]], Awaitable[Reply]]


class Core:
    """Platform-neutral command handling: parse, validate, submit, build the reply text."""

    def __init__(self, *, store: Store, config: Config,
                 local_presets: frozenset[str] | None = None) -> None:
        """`local_presets`: what the workers this process starts will take (`videobot run`),
        so that a preset none of them takes is refused even before they register."""
        self.store = store
        self.config = config
        self.admin_commands = AdminCommands(store=store, config=config)
        self.blocklist = Blocklist.from_config(config.moderation)
        self.served = ServedPresets(store, heartbeat_seconds=config.queue.heartbeat_seconds,
                                    local=local_presets)
        #: Usernames recorded by this process, by user key: each is written once.
        self._usernames: dict[str, str] = {}
        self.extensions = Extensions(store=store, config=config, submit=self.submit_video)
        self.reruns = Reruns(store=store, submit=self.submit_video, extensions=self.extensions)
        self._handlers: dict[str, Handler] = {
            "video": self.video,
            "animate": self.animate,
            "extend": self.extend,
            "status": self.status,
            "cancel": self.cancel,
            "queue": self.queue,
            "help": self.help,
            "start": self.help,
            "quota": self.quota,
            "history": self.history,
            "describe": self.describe,
            "apikey": self.apikey,
            "admin": self.admin_command,
        }

    async def handle(self, user: UserRef, text: str,
                     reply_target: dict[str, Any] | None = None, *,
                     replied_to: UserRef | None = None, admin: bool = False,
                     image: AttachedImage | None = None,
                     open_file: OpenImageFile | None = None) -> Reply:
        """Answer one line of chat. Never raises: a `CommandError` or refusal becomes its
        reason; anything else is logged and answered with one fixed sentence. `replied_to`:
        the author of the message this one replies to (an admin command's default user);
        `admin`: the adapter knows the user is an admin (else the config's lists decide).
        `image`: a picture sent with the message (a `/video` or `/animate` animates it);
        `open_file`: how this front door reads `--image PATH` (none: it may not)."""
        user = with_printable_names(user)
        replied_to = with_printable_names(replied_to) if replied_to is not None else None
        try:
            text = clean_text(text)
        except UnsafeText:
            return Reply(f"Sorry: {replies.nul_refused('message')}.")
        command = parse_command(text)
        if command is None:
            return Reply(replies.NOT_A_COMMAND)
        handler = self._handlers.get(command.name)
        if handler is None:
            return Reply(replies.unknown_command(command.name))
        if command.name == "admin":
            handler = partial(self.admin_command, replied_to=replied_to, admin=admin)
        elif command.name in ("video", "animate"):
            handler = partial(self.video if command.name == "video" else self.animate,
                              image=image, open_file=open_file)
        target = reply_target or {}
        return await self._guarded(
            f"command /{command.name}", user, lambda: self._remembered(
                user, handler(user, command.args, target), command.name in SUBMITTING)
        )

    async def video(self, user: UserRef, args: str, reply_target: dict[str, Any], *,
                    image: AttachedImage | None = None,
                    open_file: OpenImageFile | None = None) -> Reply:
        options = parse_video_options(args)
        return await self._video(user, options, reply_target,
                                 image=picture_of(options, image, open_file))

    async def animate(self, user: UserRef, args: str, reply_target: dict[str, Any], *,
                      image: AttachedImage | None = None,
                      open_file: OpenImageFile | None = None) -> Reply:
        """`/animate [prompt]`: the picture sent with it queued as a `/video` (animating.py)."""
        options, picture = animate_request(
            args, self.config, await self.served.presets(), platform=user.platform,
            image=image, open_file=open_file)
        return await self._video(user, options, reply_target, image=picture)

    async def animate_picture(self, user: UserRef, image: AttachedImage | None, text: str = "", *,
                              reply_target: dict[str, Any] | None = None) -> Reply:
        """The Animate button or message command: `/animate text` with `image`; never raises."""
        user = with_printable_names(user)
        return await self._guarded("animate", user, lambda: self.animate(
            user, text, reply_target or {}, image=image))

    async def video_request(self, user: UserRef, options: VideoOptions,
                            reply_target: dict[str, Any] | None = None, *,
                            image: AttachedImage | None = None) -> Reply:
        """Queue a `/video` whose options came already typed (e.g. Discord slash options)
        rather than as text, with the picture sent with it; never raises, like `handle`."""
        user = with_printable_names(user)
        return await self._guarded("command /video", user, lambda: self._video(
            user, options, reply_target or {}, image=image))

    async def submit_video(self, user: UserRef, options: VideoOptions, *,
                           reply_target: dict[str, Any] | None = None,
                           image: bytes | AttachedImage | None = None,
                           api: ApiOrigin | None = None,
                           notes: Sequence[str] = (), extends: int | None = None) -> Submission:
        """Queue a typed request through every rule a chat `/video` obeys (caps, rounding,
        moderation, served presets, credits, bans, the queue limits); raises `CommandError` or
        a `StoreError` with the reason. `image`: a picture, checked, fitted to the clip's size
        and stored with the job. `api`: it came through the HTTP API. `notes`: what the front
        door changed, said before the roundings. `extends`: the job whose clip it continues
        (checked by `Extensions`), whose last frame is its picture."""
        request, rounded = build_request(options, self.config)
        check_picture(self.config, request.preset,
                      with_picture=image is not None or extends is not None,
                      served=await self.served.presets())
        notes = [*notes, *rounded]
        stored: StoredInput | None = None
        if isinstance(image, AttachedImage):  # fetched once the request's options passed
            image = await fetched(image, max_mb=self.config.limits.max_image_mb)
        if image is not None:
            stored, fitting = await stored_picture(image, request, self.config)
            notes += fitting
        try:
            return await self._submit(user, request, notes, reply_target or {}, api, stored,
                                      extends)
        except BaseException:
            if stored is not None:  # refused: the image has no job to belong to
                discard_input(stored)
            raise

    async def extend(self, user: UserRef, args: str, target: dict[str, Any]) -> Reply:
        """`/extend [job] [prompt]`: continue a finished clip into one longer clip."""
        return (await self.extensions.command(user, args, target)).acknowledgement()

    async def extend_job(self, user: UserRef, job_id: int | None, *, prompt: str = "",
                         reply_target: dict[str, Any] | None = None,
                         admin: bool = False) -> Reply:
        """`/extend` with typed options (`job_id` None: the latest clip), or the Extend button
        (`admin`: an admin may extend anyone's clip); never raises, like `handle`."""
        user = with_printable_names(user)
        return await self._guarded("extend", user, lambda: self._acknowledged(
            self.extensions.typed(user, job_id, prompt, admin=admin, target=reply_target or {})))

    async def _acknowledged(self, submitted: Awaitable[Submission]) -> Reply:
        return (await submitted).acknowledgement()

    async def status(self, user: UserRef, args: str, _target: dict[str, Any]) -> Reply:
        job = await job_named(self.store, user, args, "status", active_only=False)
        position = await self.store.jobs.queue_position(job.id)
        steps = counts_steps(self.config.presets, job.request.preset)
        return Reply(replies.status(job, position, self.store.clock(), counts_steps=steps), job)

    async def describe(self, user: UserRef, args: str, target: dict[str, Any]) -> Reply:
        """Video to text: queue a describe job for a finished clip (the user's latest by
        default); a worker with a captioner answers it, delivered like a clip."""
        source = await job_named(self.store, user, args, "describe", active_only=False,
                                 kind=JobKind.VIDEO)
        submitted = await submit_description(
            self.store, self.config, self.served, user, source, reply_target=target,
            tier=submission_tier(user, self.config, blind=False))
        return Reply(replies.describe_acknowledgement(
            submitted.job, submitted.position, submitted.credits_left), submitted.job)

    async def cancel(self, user: UserRef, args: str, _target: dict[str, Any]) -> Reply:
        job = await job_named(self.store, user, args, "cancel", active_only=True)
        job = await self.store.cancels.request(job.id, user)
        return Reply(replies.cancel_requested(job), job)

    async def queue(self, user: UserRef, _args: str, _target: dict[str, Any]) -> Reply:
        return Reply(replies.queue_listing(await self.store.jobs.active_jobs(), user.key))

    async def help(self, _user: UserRef, _args: str, _target: dict[str, Any]) -> Reply:
        return Reply(replies.HELP)

    async def quota(self, user: UserRef, _args: str, _target: dict[str, Any]) -> Reply:
        tier = tier_of(user, self.config.quotas)  # where they ask from, as a /video would
        return Reply(replies.quota_summary(
            await self.store.submissions.quota(user, tier.name if tier is not None else "")))

    async def history(self, user: UserRef, _args: str, _target: dict[str, Any]) -> Reply:
        return Reply(replies.history_listing(await self.store.jobs.jobs_of(user, limit=10)))

    async def admin_command(self, user: UserRef, args: str, target: dict[str, Any], *,
                            replied_to: UserRef | None = None, admin: bool = False) -> Reply:
        """`/admin …`, for the admins the config names; anyone else changes nothing."""
        if not (admin or is_admin(user, self.config)):
            return Reply(replies.ADMIN_ONLY, refused=True)
        return await self._admin_run(user, args, replied_to, bool(target.get("private")))

    async def admin_request(self, user: UserRef, args: str, *, admin: bool,
                            replied_to: UserRef | None = None, private: bool = False) -> Reply:
        """`/admin args` from an adapter that also knows admins the config cannot name (a
        Discord role); never raises, like `handle`. `private`: only the admin sees the
        answer."""
        user = with_printable_names(user)
        if not (admin or is_admin(user, self.config)):
            return Reply(replies.ADMIN_ONLY, refused=True)
        try:
            args = clean_text(args)
        except UnsafeText:
            return Reply(f"Sorry: {replies.nul_refused('command')}.")
        return await self._guarded("command /admin", user,
                                   lambda: self._admin_run(user, args, replied_to, private))

    async def apikey(self, user: UserRef, args: str, target: dict[str, Any]) -> Reply:
        """`/apikey`: the user's own key of the HTTP API, made only in a private chat."""
        return Reply(await self.admin_commands.apikeys.own(
            user, args, private=bool(target.get("private"))))

    async def _admin_run(self, user: UserRef, args: str,
                         replied_to: UserRef | None = None, private: bool = False) -> Reply:
        if replied_to is not None:
            await self._remember(replied_to)
        return Reply(await self.admin_commands.run(user, args, replied_to, private=private))

    async def _remembered(self, user: UserRef, answer: Awaitable[Reply],
                          submits: bool) -> Reply:
        """`answer`, having recorded the user's username if it is new to this process (a
        submission records it anyway), so that admins can name them `@name`."""
        if not submits:
            await self._remember(user)
        reply = await answer
        if submits and reply.job is not None:
            self._usernames[user.key] = user.username
        return reply

    async def _remember(self, user: UserRef) -> None:
        if user.username and self._usernames.get(user.key) != user.username:
            await self.admin_commands.directory.remember(user)
            self._usernames[user.key] = user.username

    async def rerun(self, user: UserRef, job_id: int, *, new_seed: bool,
                    reply_target: dict[str, Any] | None = None, admin: bool = False,
                    api: ApiOrigin | None = None) -> Reply:
        """Reroll and Same seed: job `job_id` queued again, with its picture, by its owner or an
        admin. `api`: asked through the web front door (the key that asked) that delivers it."""
        user = with_printable_names(user)
        return await self._guarded("rerun", user, lambda: self._acknowledged(self.reruns.again(
            user, job_id, new_seed=new_seed, admin=admin, target=reply_target, api=api)))

    async def vary(self, user: UserRef, job_id: int, prompt: str, *,
                   reply_target: dict[str, Any] | None = None, admin: bool = False) -> Reply:
        """Vary: job `job_id` again with `prompt`, under a rerun's rules; never raises."""
        user = with_printable_names(user)
        return await self._guarded("vary", user, lambda: self._acknowledged(self.reruns.again(
            user, job_id, prompt=prompt, admin=admin, target=reply_target)))

    async def vary_source(self, user: UserRef, job_id: int, *, admin: bool = False) -> Reply:
        """Vary pressed: the job (`job`) if `user` may vary it, else the refusal; never raises."""
        user = with_printable_names(user)
        return await self._guarded("vary", user, lambda: self._varied(user, job_id, admin))

    async def _varied(self, user: UserRef, job_id: int, admin: bool) -> Reply:
        job = await self.reruns.source(user, job_id, admin=admin)
        return Reply(replies.vary_ask(job.id, job.request.prompt), job)

    async def cancel_job(self, user: UserRef, job_id: int, *, admin: bool = False) -> Reply:
        """Cancel a job by id (the Cancel button): its owner, or an admin, may."""
        user = with_printable_names(user)
        return await self._guarded("cancel", user, lambda: self._cancel_job(user, job_id, admin))

    async def _guarded(self, name: str, user: UserRef,
                       action: Callable[[], Awaitable[Reply]]) -> Reply:
        try:
            return await action()
        except CommandError as exc:
            return Reply(f"Sorry: {exc}.", refused=True)
        except StoreError as exc:
            return Reply(f"Sorry: {replies.store_refusal(exc)}.", refused=True)
        except Exception:
            log.exception("%s from %s failed", name, user.key)
            return Reply(INTERNAL_ERROR, refused=True)

    async def _video(self, user: UserRef, options: VideoOptions, reply_target: dict[str, Any],
                     *, image: AttachedImage | None = None) -> Reply:
        return (await self.submit_video(user, options, reply_target=reply_target,
                                        image=image)).acknowledgement()

    async def _cancel_job(self, user: UserRef, job_id: int, admin: bool) -> Reply:
        job = await self.store.cancels.request(job_id, None if admin else user)
        return Reply(replies.cancel_requested(job), job)

    async def _submit(self, user: UserRef, request: RenderRequest, notes: list[str],
                      reply_target: dict[str, Any], api: ApiOrigin | None,
                      image: StoredInput | None = None,
                      extends: int | None = None) -> Submission:
        await self._moderate(user, request)
        served = await self.served.presets()
        if served is not None and request.preset not in served:
            raise CommandError(replies.preset_not_served(request.preset, served))
        preset = self.config.preset(request.preset)
        if preset.nsfw and not reply_target.get("nsfw_allowed", False):
            raise CommandError(replies.nsfw_only(preset.name))
        submitted = await self.store.submissions.submit(
            user, request, notes=notes, reply_target=reply_target,
            max_queued_per_user=self.config.limits.max_queued_per_user,
            cost=credit_cost(request, preset), api=api, input_image=image, extends=extends,
            tier=submission_tier(user, self.config, blind=api is not None),
        )
        return Submission(submitted.job, submitted.position, submitted.credits_left,
                          preset.notice)

    async def _moderate(self, user: UserRef, request: RenderRequest) -> None:
        """Refuse a blocked prompt without echoing it; the admins find it in the audit log."""
        for text in (request.prompt, request.negative_prompt):
            rule = self.blocklist.match(text)
            if rule is not None:
                await self.admin_commands.admin_store.record(user.key, "prompt refused", user.key,
                                              f"{rule}: {text}")
                raise CommandError(replies.PROMPT_REFUSED)
