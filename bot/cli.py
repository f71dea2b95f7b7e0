"""The `videobot` command line: run, submit, status, admin, db; worker, generate, doctor and
train-demo are handed over to the generator's (`bot.handover`)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.adapters.base import AdapterStartError
from bot.adapters.local_image import open_image_file
from bot.core import replies
from bot.core.errors import CommandError
from bot.core.image_rules import check_picture
from bot.core.parsing import VideoOptions
from bot.core.requests import build_request
from bot.handover import GENERATOR_COMMANDS, hand_over, require_worker_extra
from storage import data_folder
from storage.connect import DatabaseDamaged, DatabaseUnreachable
from videobot.cli_args import (
    CliError,
    check_out,
    global_options_parser,
    split_admin_words,
    take_global_options,
)
from videobot.cli_exit import refuse, run_command
from videobot.config import Config
from videobot.logs import setup_logging
from videobot.text import printable
from videobot.users import BadUserName, UserRef, parse_user

#: The generator's commands that `main` hands over as they are (`generate` is checked here).
HANDED_OVER = frozenset(GENERATOR_COMMANDS) - {"generate"}
MAX_JOB_ID = 2**63 - 1
#: The chat's `/admin` sub-commands, offered as `videobot admin <name> ...` with the same words.
ADMIN_COMMANDS = {
    "quota": "show|set|reset <user>, or default <credits>",
    "ban": "ban <user> [reason]: cancel and refund their waiting jobs",
    "unban": "lift a ban",
    "queue": "every waiting and rendering job",
    "cancel": "cancel any job",
    "pause": "stop starting jobs (running ones finish)",
    "resume": "start jobs again",
    "stats": "usage numbers [--since 24h]",
    "audit": "the last admin actions",
    "workers": "the registered generator processes, their jobs and heartbeats",
    "apikey": "create <user> [--name NAME] [--admin] [--webhook URL] (prints the key last), "
              "list [user], revoke <n>, secret (a new webhook secret)",
}
#: The admin commands that only read: they need existing data and never create any.
ADMIN_READS = frozenset({"queue", "stats", "audit", "workers"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (2 for a refusal, 1 for a failure)."""
    try:
        options, rest = take_global_options(sys.argv[1:] if argv is None else argv)
        if rest[:1] and rest[0] in HANDED_OVER:
            hand_over(options, rest)
    except CliError as exc:
        return refuse(str(exc), None)
    head, admin_words = split_admin_words(rest, list(ADMIN_COMMANDS))
    args = _parser().parse_args(head)
    if admin_words:
        args.words = admin_words
    args.config, args.data_dir, args.options = options.config, options.data_dir, options
    return run_command(f"videobot {args.command}", lambda config: args.handler(args, config),
                       config_path=args.config, data_dir=args.data_dir,
                       refusals=(CliError, CommandError, BadUserName),
                       unavailable=(DatabaseUnreachable, DatabaseDamaged, AdapterStartError))


def _parser() -> argparse.ArgumentParser:
    common = global_options_parser()
    parser = argparse.ArgumentParser(prog="videobot", parents=[common],
                                     description="Self-hosted text-to-video chat bot.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", parents=[common], help="start the bot (console chat by "
                              "default) and its local workers")
    run.add_argument("--no-workers", action="store_true",
                     help="start no local worker (they run elsewhere)")
    run.set_defaults(handler=_run)

    # `main` hands worker, train-demo and doctor over unparsed: declared here for --help.
    commands.add_parser("worker", parents=[common], help=GENERATOR_COMMANDS["worker"])
    generate = commands.add_parser("generate", parents=[common],
                                   help=GENERATOR_COMMANDS["generate"])
    generate.add_argument("prompt")
    generate.add_argument("--out", type=Path, required=True, help="the MP4 to write")
    generate.add_argument("--image", action=_Once, metavar="PATH",
                          help="a PNG, JPEG or WebP picture to animate")
    _add_video_flags(generate)
    generate.set_defaults(handler=_generate)

    submit = commands.add_parser("submit", parents=[common], help="queue a job, print its id")
    submit.add_argument("prompt", nargs="?", default="",
                        help="what to render (with --extend: what happens next; default: the "
                             "clip's own prompt)")
    submit.add_argument("--user", default="console:local", help="<platform>:<id>")
    submit.add_argument("--image", action=_Once, metavar="PATH",
                        help="a PNG, JPEG or WebP picture to animate")
    submit.add_argument("--extend", type=int, metavar="JOB", action=_Once,
                        help="continue job JOB's clip into one longer clip, with its settings")
    _add_video_flags(submit)
    submit.set_defaults(handler=_submit)

    status = commands.add_parser("status", parents=[common], help="print a job's state")
    status.add_argument("job_id", type=int)
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=_status)

    admin = commands.add_parser("admin", parents=[common], help="operator commands")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    for name, words in ADMIN_COMMANDS.items():
        command = admin_commands.add_parser(name, parents=[common], help=words)
        command.add_argument("words", nargs="*",
                             help="as after /admin in chat, e.g. quota set console:bob 50")
        command.set_defaults(handler=_admin_chat_command, admin_name=name)

    for name in ("train-demo", "doctor"):
        commands.add_parser(name, parents=[common], help=GENERATOR_COMMANDS[name])

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="apply migrations")
    upgrade.set_defaults(handler=_db_upgrade)
    return parser


class _Once(argparse.Action):
    """A flag that may be given once (argparse would let the last one win silently)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        if getattr(namespace, self.dest, None) is not None:
            parser.error(replies.option_given_twice(self.option_strings[0].removeprefix("--")))
        setattr(namespace, self.dest, values)


def _add_video_flags(parser: argparse.ArgumentParser) -> None:
    for name in ("seed", "frames", "fps", "width", "height", "steps"):
        parser.add_argument(f"--{name}", type=int, action=_Once)
    parser.add_argument("--guidance", type=float, action=_Once)
    parser.add_argument("--negative", dest="negative_prompt", action=_Once)
    parser.add_argument("--preset", action=_Once)


def _video_options(args: argparse.Namespace) -> VideoOptions:
    names = ("seed", "frames", "fps", "width", "height", "steps", "guidance",
             "negative_prompt", "preset")
    overrides = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    return VideoOptions(args.prompt, overrides)


def _run(args: argparse.Namespace, config: Config) -> int:
    from bot.app import run_bot
    from bot.web.server import WebServerError

    data_folder.prepare(config)
    setup_logging(config, "videobot", quiet_stderr=config.console.enabled)
    try:
        return asyncio.run(run_bot(config, config_path=_absolute(args.config),
                                   start_workers=not args.no_workers))
    except WebServerError as exc:  # e.g. api.listen's port is taken
        raise CliError(str(exc)) from None


def _generate(args: argparse.Namespace, config: Config) -> int:
    """Check and word the request here, as for a chat `/video` (with `--image`: that the
    preset takes a picture and the file can be read; the generator checks and fits its
    content), then hand the render over to the generator with every value of the request
    spelled out."""
    require_worker_extra()
    check_out(args.out)
    request, notes = build_request(_video_options(args), config)
    check_picture(config, request.preset, with_picture=args.image is not None)
    picture: list[str] = []
    if args.image is not None:  # the generator reads, checks and fits it
        open_image_file(args.image)  # a path that cannot be read is refused here
        picture = [f"--image={Path(args.image).expanduser().resolve()}"]
    for note in notes:
        print(f"note: {note}")
    values = {name: getattr(request, name) for name in
              ("preset", "seed", "frames", "fps", "width", "height", "steps", "guidance")}
    flags = [f"--{name}={value}" for name, value in values.items()]
    hand_over(args.options, ["generate", f"--out={args.out}", *flags, *picture,
                             f"--negative={request.negative_prompt}", "--", request.prompt])


def _submit(args: argparse.Namespace, config: Config) -> int:
    """Queue through the same core as a chat `/video` (caps, rounding, moderation, credits),
    as the operator's shell: every preset is allowed."""
    from bot.core.commands import Core

    user = parse_user(args.user)
    if args.extend is not None:
        return _submit_extension(args, config, user)
    if not args.prompt.strip():
        raise CliError("give a prompt (or --extend JOB to continue a clip)")
    build_request(_video_options(args), config)  # a refusal before anything is created
    image = open_image_file(args.image) if args.image is not None else None
    data_folder.prepare(config)

    async def submit() -> Any:
        async with _store(config) as store:
            core = Core(store=store, config=config)
            return await core.video_request(user, _video_options(args), {"nsfw_allowed": True},
                                            image=image)

    reply = asyncio.run(submit())
    if reply.job is None:
        raise CliError(reply.text.removeprefix("Sorry: ").removesuffix("."))
    print(reply.job.id)
    return 0


def _submit_extension(args: argparse.Namespace, config: Config, user: UserRef) -> int:
    """`submit --extend JOB [prompt]`: the operator's shell may extend anyone's clip."""
    from bot.core.commands import Core

    given = [name for name in ("seed", "frames", "fps", "width", "height", "steps",
                               "guidance", "negative_prompt", "preset")
             if getattr(args, name) is not None]
    if given:
        flag = "--negative" if given[0] == "negative_prompt" else f"--{given[0]}"
        raise CliError(f"--extend keeps the settings of the clip it continues; drop {flag}")
    data_folder.require_existing(config)

    async def submit() -> Any:
        async with _store(config) as store:
            core = Core(store=store, config=config)
            return await core.extend_job(user, args.extend, prompt=args.prompt,
                                         reply_target={"nsfw_allowed": True}, admin=True)

    reply = asyncio.run(submit())
    if reply.job is None:
        raise CliError(reply.text.removeprefix("Sorry: ").removesuffix("."))
    print(reply.job.id)
    return 0


def _status(args: argparse.Namespace, config: Config) -> int:
    if not 1 <= args.job_id <= MAX_JOB_ID:  # the database's ids are 64-bit integers
        raise CliError(f"there is no job #{args.job_id}")

    data_folder.require_existing(config)

    async def status() -> tuple[Any, int | None]:
        async with _store(config) as store:
            job = await store.jobs.get(args.job_id)
            position = await store.jobs.queue_position(args.job_id) if job else None
            return job, position

    job, position = asyncio.run(status())
    if job is None:
        raise CliError(f"there is no job #{args.job_id}")
    if args.json:
        print(json.dumps(_job_json(job, position), indent=2))
    else:
        from datetime import UTC, datetime

        from videobot.options import counts_steps

        steps = counts_steps(config.presets, job.request.preset)
        print(printable(replies.status(job, position, datetime.now(UTC), counts_steps=steps)))
    return 0


def _admin_chat_command(args: argparse.Namespace, config: Config) -> int:
    """`videobot admin <name> ...`: the chat's `/admin <name> ...`, run as the shell user."""
    import getpass

    from bot.core.admin import SHELL
    from bot.core.commands import Core
    from videobot.users import UserRef

    actor = UserRef(SHELL, getpass.getuser())
    line = " ".join(["/admin", args.admin_name, *args.words])

    async def run() -> str:
        async with _store(config) as store:
            return (await Core(store=store, config=config).handle(actor, line)).text

    if _admin_reads(args.admin_name, args.words):
        data_folder.require_existing(config)
        text = asyncio.run(run())
    else:
        with data_folder.kept_if_succeeded(config) as outcome:
            text = asyncio.run(run())
            outcome.succeeded = not text.startswith("Sorry")
    print(printable(text))
    return 1 if text.startswith("Sorry") else 0


def _admin_reads(name: str, words: Sequence[str]) -> bool:
    """Whether `/admin name words` only reads (and so must not create a data folder)."""
    return name in ADMIN_READS or (name == "quota" and words[:1] == ["show"])


def _db_upgrade(args: argparse.Namespace, config: Config) -> int:
    data_folder.prepare(config)

    async def upgrade() -> None:
        async with _store(config):
            pass

    asyncio.run(upgrade())
    print(f"database at head: {config.database_url.split('@')[-1]}")
    return 0


def _store(config: Config) -> Any:
    from contextlib import asynccontextmanager

    from storage.connect import close_store, open_store

    @asynccontextmanager
    async def opened() -> Any:
        store = await open_store(config)
        try:
            yield store
        finally:
            await close_store(store)

    return opened()


def _job_json(job: Any, position: int | None) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": job.id, "user": job.user.key, "status": job.status,
        "delivered": job.delivered_at is not None, "queue_position": position,
        "attempts": job.attempts, "max_attempts": job.max_attempts,
        "progress": {"step": job.progress_step, "total": job.progress_total},
        "request": job.request.to_dict(), "notes": list(job.notes), "error": job.error,
        "clip": _clip_json(job.clip) if job.clip else None,
        "created_at": iso(job.created_at), "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at), "delivered_at": iso(job.delivered_at),
    }


def _clip_json(clip: Any) -> dict[str, Any]:
    """A stored clip's fields, its paths as text (a stored clip carries no upload note)."""
    fields = {k: v for k, v in vars(clip).items() if k != "note"}
    return fields | {"video_path": str(clip.video_path), "poster_path": str(clip.poster_path)}


def _absolute(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
