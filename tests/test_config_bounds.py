"""Values that pass the type check and broke the bot at run time: every numeric key has an
upper bound named in its error, devices are checked at start, and the admin commands' periods
are bounded with a reply that names the bound."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path

import pytest

from bot.core.commands import Core
from storage.store import Store
from tests.processes import videobot
from tests.quota_helpers import roomy_config
from videobot import config as config_module
from videobot.config import Config, ConfigError, load_config
from videobot.config_bounds import BOUNDS
from videobot.users import UserRef

#: (TOML, the start of the error). The first five broke the worker or every /video.
OUT_OF_BOUNDS = [
    ("[queue]\nlease_seconds = 1e12\n", "queue.lease_seconds: must be at most 86400 s, not 1e+12"),
    ("[worker]\nswitch_after_seconds = 1e15\n",
     "worker.switch_after_seconds: must be at most 604800 s, not 1e+15"),
    ("[quotas]\nwindow_hours = 1e9\n", "quotas.window_hours: must be at most 87600 h, not 1e+09"),
    ("[queue]\nmax_attempts = 9223372036854775808\n",
     "queue.max_attempts: must be at most 100, not 9223372036854775808"),
    ("[storage]\nkeep_clips_days = 1e9\n", "storage.keep_clips_days: must be at most 3650 days"),
    ("[storage]\ndrop_delivered_clip_data_hours = 1e9\n",
     "storage.drop_delivered_clip_data_hours: must be at most 87600 h"),
    ("[queue]\npoll_interval_seconds = 1e9\n", "queue.poll_interval_seconds: must be at most"),
    ("[worker]\nrestart_delay_seconds = 1e300\n", "worker.restart_delay_seconds: must be at most"),
    ("[worker]\nshutdown_grace_seconds = 1e10\n",
     "worker.shutdown_grace_seconds: must be at most"),
    ("[limits]\nmax_prompt_chars = 100000000\n", "limits.max_prompt_chars: must be at most"),
    ("[limits]\nmax_queued_per_user = 100000000\n",
     "limits.max_queued_per_user: must be at most"),
    ("[presets.tiny]\nmax_frames = 100000000\n", "presets.tiny.max_frames: must be at most"),
    ("[presets.tiny]\nmax_steps = 100000000\n", "presets.tiny.max_steps: must be at most"),
    ("[presets.tiny]\nmax_pixels = 100000000000\n", "presets.tiny.max_pixels: must be at most"),
    ("[presets.tiny]\ntime_limit_seconds = 1e12\n",
     "presets.tiny.time_limit_seconds: must be at most"),
    ("[presets.tiny]\ncost_factor = 1e30\n", "presets.tiny.cost_factor: must be at most"),
    ("[presets.tiny]\ngroup_offload_blocks = 100000000\n",
     "presets.tiny.group_offload_blocks: must be at most"),
    ("[quotas]\ncredits = 1e300\n", "quotas.credits: must be at most 1e+09"),
    ("[quotas]\nmin_interval_seconds = 1e12\n", "quotas.min_interval_seconds: must be at most"),
    ("[quotas]\nmax_queue_length = 100000000000\n", "quotas.max_queue_length: must be at most"),
    ("[quotas]\nmax_running_per_user = 100000000000\n",
     "quotas.max_running_per_user: must be at most"),
    ("[quotas.tiers.gold]\ncredits = 1e12\n", "quotas.tiers.gold.credits: must be at most"),
    ('[telegram]\ntoken = "1:x"\nwebhook_port = 70000\n',
     "telegram.webhook_port: must be at most 65535"),
    ('[telegram]\ntoken = "1:x"\nwebhook_port = 0\n', "telegram.webhook_port: must be at least 1"),
    ('[telegram]\ntoken = "1:x"\nupload_limit_mb = 1000000\n',
     "telegram.upload_limit_mb: must be at most 2000 MB"),
    ('[telegram]\ntoken = "1:x"\nprogress_interval_seconds = 1e12\n',
     "telegram.progress_interval_seconds: must be at most"),
    ('[telegram]\ntoken = "1:x"\nadmins = [99999999999999999999]\n',
     "telegram.admins: 99999999999999999999 is not an id"),
    ('[discord]\ntoken = "x"\ninteraction_token_seconds = 86400\n',
     "discord.interaction_token_seconds: must be at most 900 s"),
    ('[discord]\ntoken = "x"\nguild_ids = [-99999999999999999999]\n',
     "discord.guild_ids: -99999999999999999999 is not an id"),
    ('[worker]\ndevices = ["bogus"]\n',
     "worker.devices: 'bogus' is not a device; use cpu, cuda, cuda:N or mps"),
    ('[worker]\ndevices = ["cpu", "cuda0"]\n', "worker.devices: 'cuda0' is not a device"),
    ('[worker]\ndevices = ["cuda:"]\n', "worker.devices: 'cuda:' is not a device"),
    ('[worker]\ndevices = ["gpu:1"]\n', "worker.devices: 'gpu:1' is not a device"),
]


@pytest.mark.parametrize(("text", "expected"), OUT_OF_BOUNDS,
                         ids=[text.split("\n")[-2] for text, _ in OUT_OF_BOUNDS])
def test_an_out_of_bounds_value_is_refused_naming_the_key_and_the_bound(
        tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "config.toml"
    # A [presets.NAME] table replaces the embedded presets, the default one too.
    default = 'default_preset = "tiny"\n' if "[presets." in text else ""
    path.write_text(default + text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(path, data_dir=tmp_path, environ={})
    assert str(error.value).startswith(expected), str(error.value)


def test_every_numeric_key_has_a_bound() -> None:
    classes = [config_module.PresetConfig, config_module.TierConfig,
               *config_module.SECTIONS.values()]
    missing = []
    for cls in classes:
        hints = typing.get_type_hints(cls)
        for key in dataclasses.fields(cls):
            if hints[key.name] in (int, float) and key.name not in BOUNDS.get(cls.__name__, {}):
                missing.append(f"{cls.__name__}.{key.name}")
    assert missing == []


def test_the_devices_a_worker_takes_load(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[worker]\ndevices = ["cpu", "cuda", "cuda:0", "cuda:12", "mps"]\n')
    assert load_config(path, environ={}).worker.devices[-2:] == ("cuda:12", "mps")


def test_a_worker_given_a_bad_device_stops_at_once_naming_it(tmp_path: Path) -> None:
    result = videobot("worker", "--device", "bogus", "--burst", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "videobot: --device 'bogus' is not a device; use cpu, cuda, cuda:N or mps")


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url)


#: Admin periods beyond the bound: (the command, what the reply says).
LONG_PERIODS = [
    ("/admin quota set console:bob 5 --window 999999999d",
     "999999999d is too long a period; the longest is 3650 days (87600 h)"),
    ("/admin quota set console:bob 5 --window 87601h", "87601h is too long a period"),
    ("/admin quota set console:bob 5 --window " + "9" * 400, "is too long a period"),
    ("/admin stats --since 99999999999d", "99999999999d is too long a period"),
    ("/admin stats --since 315360001s", "315360001s is too long a period"),
]


async def test_admin_periods_beyond_the_bound_are_refused_and_the_user_still_served(
        store: Store, config: Config) -> None:
    core = Core(store=store, config=config)
    shell, bob = UserRef("shell", "root"), UserRef("console", "bob")
    for line, expected in LONG_PERIODS:
        reply = await core.handle(shell, line)
        assert reply.text.startswith("Sorry: ") and expected in reply.text, (line, reply.text)
    longest = await core.handle(shell, "/admin quota set console:bob 5 --window 3650d")
    assert longest.text == "console:bob now has 5 credits per 87600 h."
    assert (await core.handle(shell, "/admin stats --since 3650d")).text.startswith("Last ")
    video = await core.handle(bob, "/video a ball")
    assert video.job is not None, video.text
