"""The `videobot` command line: run, worker, generate, submit, status, admin, doctor, db."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.errors import CommandError
from bot.core.parsing import VideoOptions
from bot.core.requests import build_request
from bot.logs import setup_logging
from videobot.config import DEFAULT_DATA_DIR, Config, ConfigError, load_config
from videobot.users import BadUserName, parse_user

EXIT_USAGE = 2
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
}


class CliError(Exception):
    """A reason to stop, printed as `videobot: <reason>`."""


def main(argv: Sequence[str] | None = None) -> int:
    head, admin_words = _split_admin_words(list(sys.argv[1:] if argv is None else argv))
    args = _parser().parse_args(head)
    if admin_words:
        args.words = admin_words
    args.config = getattr(args, "config", None)
    args.data_dir = getattr(args, "data_dir", None)
    try:
        config = load_config(args.config, data_dir=args.data_dir)
        _check_data_dir(config.data_dir)
        return int(args.handler(args, config))
    except (CliError, ConfigError, CommandError, BadUserName) as exc:
        print(f"videobot: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a sub-command's own default must not overwrite a value given before it.
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                        help="TOML config (default: embedded defaults)")
    common.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS,
                        help=f"data folder (default: ./{DEFAULT_DATA_DIR})")
    parser = argparse.ArgumentParser(prog="videobot", parents=[common],
                                     description="Self-hosted text-to-video chat bot.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", parents=[common], help="start the bot (console chat by "
                              "default) and its local workers")
    run.add_argument("--no-workers", action="store_true",
                     help="start no local worker (they run elsewhere)")
    run.set_defaults(handler=_run)

    worker = commands.add_parser("worker", parents=[common], help="run one generator process")
    worker.add_argument("--device", help="torch device (default: the first of worker.devices)")
    worker.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    worker.set_defaults(handler=_worker)

    generate = commands.add_parser("generate", parents=[common],
                                   help="render one clip with no bot and no queue")
    generate.add_argument("prompt")
    generate.add_argument("--out", type=Path, required=True, help="the MP4 to write")
    _add_video_flags(generate)
    generate.set_defaults(handler=_generate)

    submit = commands.add_parser("submit", parents=[common], help="queue a job, print its id")
    submit.add_argument("prompt")
    submit.add_argument("--user", default="console:local", help="<platform>:<id>")
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

    train = commands.add_parser("train-demo", parents=[common],
                                help="retrain the embedded demo model from scratch (CPU)")
    train.add_argument("--out", type=Path,
                       help="folder for the weights (default: <data-dir>/models/demo-trained)")
    train.add_argument("--minutes", type=float, default=55.0,
                       help="time budget in minutes (default 55): the generator, then the "
                            "captioner and the picture reader")
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=_train_demo)

    doctor = commands.add_parser("doctor", parents=[common],
                                 help="check torch, the devices, and whether each preset fits")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(handler=_doctor)

    db = commands.add_parser("db", parents=[common], help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", parents=[common], help="apply migrations")
    upgrade.set_defaults(handler=_db_upgrade)
    return parser


def _split_admin_words(argv: list[str]) -> tuple[list[str], list[str]]:
    """Everything after `admin <name>` is the chat command's words, flags like `--since`
    included (give --config and --data-dir before them)."""
    first = _next_word(argv, 0)
    if first is None or argv[first] != "admin":
        return argv, []
    name = _next_word(argv, first + 1)
    if name is None or argv[name] not in ADMIN_COMMANDS:
        return argv, []
    return argv[:name + 1], argv[name + 1:]


def _next_word(argv: list[str], index: int) -> int | None:
    """The index of the next word that is neither a flag nor a flag's value."""
    while index < len(argv):
        if argv[index] in ("--config", "--data-dir"):
            index += 2
        elif argv[index].startswith("-"):
            index += 1
        else:
            return index
    return None


def _add_video_flags(parser: argparse.ArgumentParser) -> None:
    for name in ("seed", "frames", "fps", "width", "height", "steps"):
        parser.add_argument(f"--{name}", type=int)
    parser.add_argument("--guidance", type=float)
    parser.add_argument("--negative", dest="negative_prompt")
    parser.add_argument("--preset")


def _video_options(args: argparse.Namespace) -> VideoOptions:
    names = ("seed", "frames", "fps", "width", "height", "steps", "guidance",
             "negative_prompt", "preset")
    overrides = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    return VideoOptions(args.prompt, overrides)


def _check_data_dir(data_dir: Path) -> None:
    probe = data_dir / f".write-test-{os.getpid()}"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise CliError(
            f"the data folder {data_dir} is not writable ({exc.strerror or exc}); "
            "choose another with --data-dir"
        ) from None


def _run(args: argparse.Namespace, config: Config) -> int:
    from bot.app import run_bot

    setup_logging(config, "videobot", quiet_stderr=config.console.enabled)
    return asyncio.run(run_bot(config, config_path=_absolute(args.config),
                               start_workers=not args.no_workers))


def _worker(args: argparse.Namespace, config: Config) -> int:
    from generator.main import run_worker

    setup_logging(config, None)
    asyncio.run(run_worker(config, device=args.device or config.worker.devices[0],
                           burst=args.burst))
    return 0


def _doctor(args: argparse.Namespace, config: Config) -> int:
    from generator.doctor import examine, format_report

    report = examine(config)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0


def _generate(args: argparse.Namespace, config: Config) -> int:
    from generator.oneshot import render_to_file

    setup_logging(config, None, quiet_stderr=True)
    request, notes = build_request(_video_options(args), config)
    for note in notes:
        print(f"note: {note}")
    clip = render_to_file(config, request, args.out)
    print(f"{clip.video_path}\nposter: {clip.poster_path}\nseed: {request.seed}")
    return 0


def _submit(args: argparse.Namespace, config: Config) -> int:
    """Queue through the same core as a chat `/video` (caps, rounding, moderation, credits),
    as the operator's shell: every preset is allowed."""
    from bot.core.commands import Core

    user = parse_user(args.user)

    async def submit() -> Any:
        async with _store(config) as store:
            core = Core(store=store, config=config)
            return await core.video_request(user, _video_options(args), {"nsfw_allowed": True})

    reply = asyncio.run(submit())
    if reply.job is None:
        raise CliError(reply.text.removeprefix("Sorry: ").removesuffix("."))
    print(reply.job.id)
    return 0


def _status(args: argparse.Namespace, config: Config) -> int:
    from bot.core import replies

    async def status() -> tuple[Any, int | None]:
        async with _store(config) as store:
            job = await store.get(args.job_id)
            position = await store.queue_position(args.job_id) if job else None
            return job, position

    job, position = asyncio.run(status())
    if job is None:
        raise CliError(f"there is no job #{args.job_id}")
    if args.json:
        print(json.dumps(_job_json(job, position), indent=2))
    else:
        from datetime import UTC, datetime

        print(replies.status(job, position, datetime.now(UTC)))
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

    text = asyncio.run(run())
    print(text)
    return 1 if text.startswith("Sorry") else 0


def _train_demo(args: argparse.Namespace, config: Config) -> int:
    from generator.backends.demo.train import train_demo

    out = args.out or config.data_dir / "models" / "demo-trained"
    if args.minutes <= 0:
        raise CliError("--minutes must be positive")
    metrics = train_demo(out, minutes=args.minutes, seed=args.seed)
    print(f"weights written to {out}")
    for name, value in metrics.items():
        print(f"{name:>24}: {value:.4f}")
    print(f'use them: [presets.demo] model = "{out}"')
    return 0


def _db_upgrade(args: argparse.Namespace, config: Config) -> int:
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
        "clip": vars(job.clip) if job.clip else None,
        "created_at": iso(job.created_at), "started_at": iso(job.started_at),
        "finished_at": iso(job.finished_at), "delivered_at": iso(job.delivered_at),
    }


def _absolute(path: Path | None) -> Path | None:
    return path.resolve() if path is not None else None


if __name__ == "__main__":
    logging.captureWarnings(True)
    sys.exit(main())
