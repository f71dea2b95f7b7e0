"""The generator's command line, `python -m generator`: worker, generate, doctor, train-demo.
`videobot <one of them>` hands over to it (the bot imports nothing from the generator), so the
words, the global options and the way a command ends are the same as `videobot`'s."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from storage import data_folder
from storage.connect import DatabaseDamaged, DatabaseUnreachable
from videobot.cli_args import CliError, check_out, global_options_parser, take_global_options
from videobot.cli_exit import refuse, run_command
from videobot.config import Config
from videobot.devices import DEVICE_FORMS, is_device_name
from videobot.families import family_for_preset, round_to_family
from videobot.limits import LimitExceeded, check_request
from videobot.logs import setup_logging
from videobot.one_size import snap_to_fixed_size
from videobot.request_builder import request_from_preset

#: The request fields `generate` takes as flags, with their types.
VIDEO_FLAGS = {"seed": int, "frames": int, "fps": int, "width": int, "height": int,
               "steps": int, "guidance": float}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit status (2 for a refusal, 1 for a failure)."""
    try:
        options, rest = take_global_options(sys.argv[1:] if argv is None else argv)
    except CliError as exc:
        return refuse(str(exc), None)
    args = _parser().parse_args(rest)
    return run_command(f"videobot {args.command}", lambda config: args.handler(args, config),
                       config_path=options.config, data_dir=options.data_dir,
                       refusals=(CliError, LimitExceeded),
                       unavailable=(DatabaseUnreachable, DatabaseDamaged))


def _parser() -> argparse.ArgumentParser:
    common = global_options_parser()
    parser = argparse.ArgumentParser(prog="videobot", parents=[common],
                                     description="videobot's generator commands.")
    commands = parser.add_subparsers(dest="command", required=True)

    worker = commands.add_parser("worker", parents=[common], help="run one generator process")
    worker.add_argument("--device", help="torch device (default: the first of worker.devices)")
    worker.add_argument("--burst", action="store_true", help="drain the queue, then exit")
    worker.add_argument("--supervised", action="store_true",
                        help="stop, handing the job in hand back, when standard input ends "
                             "(how `videobot run` starts its workers)")
    worker.set_defaults(handler=_worker)

    generate = commands.add_parser("generate", parents=[common],
                                   help="render one clip with no bot and no queue")
    generate.add_argument("prompt")
    generate.add_argument("--out", type=Path, required=True, help="the MP4 to write")
    for name, kind in VIDEO_FLAGS.items():
        generate.add_argument(f"--{name}", type=kind)
    generate.add_argument("--negative", dest="negative_prompt")
    generate.add_argument("--preset")
    generate.add_argument("--image", type=Path, metavar="PATH",
                          help="a PNG, JPEG or WebP picture to animate")
    generate.set_defaults(handler=_generate)

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
    return parser


def _worker(args: argparse.Namespace, config: Config) -> int:
    from generator.main import run_worker

    if args.device is not None and not is_device_name(args.device):
        raise CliError(f"--device {args.device!r} is not a device; use {DEVICE_FORMS}")
    data_folder.prepare(config)
    setup_logging(config, None)
    asyncio.run(run_worker(config, device=args.device or config.worker.devices[0],
                           burst=args.burst, supervised=args.supervised))
    return 0


def _doctor(args: argparse.Namespace, config: Config) -> int:
    from generator.doctor import examine, format_report

    report = examine(config)
    print(json.dumps(report.as_dict(), indent=2) if args.json else format_report(report))
    return 0


def _generate(args: argparse.Namespace, config: Config) -> int:
    """Render one request. `videobot generate` has checked and worded it already (the notes
    on options a preset ignores are the bot's), and passes it on in full; run alone, this
    checks the request against the caps and rounds it to its model family."""
    from generator.oneshot import picture_file, render_to_file

    check_out(args.out)
    name = args.preset or config.default_preset
    if name not in config.presets:
        raise CliError(f"there is no preset {name!r}; choose one of: "
                       f"{', '.join(sorted(config.presets))}")
    preset = config.presets[name]
    given = {n: getattr(args, n) for n in (*VIDEO_FLAGS, "negative_prompt")
             if getattr(args, n) is not None}
    request = request_from_preset(preset, args.prompt.strip(), given)
    request, notes = snap_to_fixed_size(request, preset)
    check_request(request, preset, config.limits)
    request, rounding = round_to_family(request, family_for_preset(preset))
    notes += rounding
    check_request(request, preset, config.limits)
    image, fitting = picture_file(args.image, request, config, preset)
    data_folder.prepare(config)
    setup_logging(config, None, quiet_stderr=True)
    for note in [*notes, *fitting]:
        print(f"note: {note}")
    try:
        clip = render_to_file(config, request, args.out, image=image)
    except OSError as exc:
        raise CliError(f"cannot write {exc.filename or args.out} ({exc.strerror or exc})"
                       ) from exc
    print(f"{clip.video_path}\nposter: {clip.poster_path}\nseed: {request.seed}")
    return 0


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


def run() -> None:
    """`python -m generator`: run and exit with the command's status."""
    logging.captureWarnings(True)
    sys.exit(main())
