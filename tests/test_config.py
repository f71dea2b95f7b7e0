"""The config loader: embedded defaults, the documented example, and errors that name the key."""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from pathlib import Path
from typing import Any

import pytest

from videobot.config import (
    ENV_DATABASE_URL,
    Config,
    ConfigError,
    PresetConfig,
    config_from_dict,
    load_config,
)
from videobot.families import family_for_preset, round_to_family
from videobot.params import RenderRequest

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text), data_dir=tmp_path / "data", environ={})


def test_defaults_load_with_no_file(tmp_path: Path) -> None:
    config = load_config(None, data_dir=tmp_path, environ={})
    assert config.data_dir == tmp_path.absolute()
    assert config.default_preset == "demo"
    assert config.preset().backend == "demo" and config.preset().model == "builtin:demo"
    assert config.presets["tiny"] == PresetConfig()
    assert config.limits.max_prompt_chars == 500
    assert config.worker.devices == ("cpu",)


def test_example_file_loads_and_equals_the_defaults(tmp_path: Path) -> None:
    example = load_config(EXAMPLE, data_dir=tmp_path, environ={})
    assert example == load_config(None, data_dir=tmp_path, environ={})


def test_example_file_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    keys = set(re.findall(r"^([a-z0-9_]+) = ", text, flags=re.MULTILINE))
    tables = set(re.findall(r"^\[([a-z_.]+)\]", text, flags=re.MULTILINE))
    top_level = {"data_dir", "default_preset", "presets"}
    assert {"data_dir", "default_preset"} <= keys
    # Optional adapters ([telegram], [discord]) are documented commented out: the table's
    # presence turns the adapter on.
    commented_keys = set(re.findall(r"^# ([a-z0-9_]+) = ", text, flags=re.MULTILINE))
    commented_tables = set(re.findall(r"^# \[([a-z_.]+)\]", text, flags=re.MULTILINE))
    hints = typing.get_type_hints(Config)
    for section in dataclasses.fields(Config):
        if section.name in top_level:
            continue
        if getattr(Config(), section.name) is None:
            assert section.name in commented_tables, f"[{section.name}] is not in the example"
            cls = typing.get_args(hints[section.name])[0]
            for item in dataclasses.fields(cls):
                assert item.name in commented_keys, f"{section.name}.{item.name} missing"
            continue
        assert section.name in tables, f"[{section.name}] is not in the example"
        for item in dataclasses.fields(getattr(Config(), section.name)):
            assert item.name in keys, f"{section.name}.{item.name} is not in the example"
    assert "presets.tiny" in tables
    # A preset's name is its table header, [presets.NAME], not a key.
    preset_keys = {f.name for f in dataclasses.fields(PresetConfig)} - {"name"}
    assert preset_keys <= keys, preset_keys - keys


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("bogus = 1\n", "bogus: unknown key"),
        ("[limit]\nmax_prompt_chars = 5\n", "limit: unknown key"),
        ("[queue]\nlease = 3\n", "queue.lease: unknown key"),
        ("[presets.tiny]\nframe = 3\n", "presets.tiny.frame: unknown key"),
        ('[limits]\nmax_prompt_chars = "x"\n', "limits.max_prompt_chars: must be an integer"),
        ("[limits]\nmax_prompt_chars = true\n", "limits.max_prompt_chars: must be an integer"),
        ('[queue]\nlease_seconds = "30"\n', "queue.lease_seconds: must be a number"),
        ("[queue]\npoll_interval_seconds = inf\n", "queue.poll_interval_seconds: must be a finite"),
        ("[queue]\nlease_seconds = nan\n", "queue.lease_seconds: must be a finite"),
        ('[worker]\ndevices = "cuda:0"\n', "worker.devices: must be a list of strings"),
        ("[worker]\ndevices = []\n", "worker.devices: must name at least one device"),
        ("[console]\nenabled = 1\n", "console.enabled: must be true or false"),
        ("database = 3\n", "database: must be a table"),
        ("data_dir = 3\n", "data_dir: must be a string"),
        ("[limits]\nmax_prompt_chars = -1\n", "limits.max_prompt_chars: must be positive"),
        ("[limits]\nmax_queued_per_user = 0\n", "limits.max_queued_per_user: must be positive"),
        ("[queue]\nlease_seconds = 0\n", "queue.lease_seconds: must be positive"),
        ("[queue]\nmax_attempts = 0\n", "queue.max_attempts: must be positive"),
        ("[worker]\nrestart_delay_seconds = -1\n", "worker.restart_delay_seconds: must be zero"),
        ("[worker]\nshutdown_grace_seconds = -5\n", "worker.shutdown_grace_seconds: must be zero"),
        ("[presets.tiny]\nframes = 0\n", "presets.tiny.frames: must be positive"),
        ("[presets.tiny]\nsteps = -2\n", "presets.tiny.steps: must be positive"),
        ("[presets.tiny]\nguidance = -1\n", "presets.tiny.guidance: must be between 0 and 30"),
        ("[presets.tiny]\nguidance = 100\n", "presets.tiny.guidance: must be between 0 and 30"),
        ("[presets.tiny]\nfps = 120\n", "presets.tiny.fps: must be at most 60"),
        ("[presets.tiny]\nwidth = 8\n", "presets.tiny.width: must be at least 16"),
        ("[presets.tiny]\nframes = 100\n", "presets.tiny.frames: above max_frames (64)"),
        ("[presets.tiny]\nsteps = 60\n", "presets.tiny.steps: above max_steps (50)"),
        ("[presets.tiny]\nwidth = 1024\nheight = 1024\n", "presets.tiny.width: width x height"),
        ("[queue]\nheartbeat_seconds = 30\n", "queue.heartbeat_seconds: must be positive"),
        ("[queue]\nheartbeat_seconds = 40\n", "queue.heartbeat_seconds: must be positive"),
        ('default_preset = "fast"\n', "default_preset: no preset named 'fast' (have: demo, tiny)"),
        ('[presets.tiny]\nfamily = "sora"\n', "presets.tiny.family: unknown family 'sora'"),
        ('[presets.tiny]\nbackend = "comfyui"\n', "presets.tiny.backend: must be 'diffusers'"),
        ('[presets.tiny]\ndtype = "int8"\n', "presets.tiny.dtype: must be float32"),
        ('[presets.tiny]\nmodel = ""\n', "presets.tiny.model: must name"),
        ("presets = 3\n", "presets: must be a table"),
        ("[presets]\n", "presets: must be a table of at least one"),
        ("[presets]\ntiny = 3\n", "presets.tiny: must be a table"),
        ('[logging]\nlevel = "LOUD"\n', "logging.level: must be one of"),
    ],
)
def test_bad_values_name_the_key_and_why(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text)
    assert str(error.value).startswith(expected), str(error.value)


def test_unknown_family_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"known: auto, .*wan"):
        load_text(tmp_path, '[presets.tiny]\nfamily = "sora"\n')


def test_presets_in_the_file_replace_the_embedded_ones(tmp_path: Path) -> None:
    config = load_text(tmp_path, 'default_preset = "wan"\n'
                                 '[presets.wan]\nfamily = "wan"\nframes = 17\nfps = 16\n')
    assert set(config.presets) == {"wan"}
    assert config.preset() == PresetConfig(name="wan", family="wan", frames=17, fps=16)
    with pytest.raises(ConfigError, match=r"^default_preset: no preset named 'demo' \(have: wan"):
        load_text(tmp_path, '[presets.wan]\nfamily = "wan"\n')


def test_integers_are_accepted_for_float_keys(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[queue]\nlease_seconds = 60\nheartbeat_seconds = 10\n")
    assert config.queue.lease_seconds == 60.0
    assert isinstance(config.queue.lease_seconds, float)


def test_corrupt_file_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "[limits\nmax_prompt_chars = 5\n")
    with pytest.raises(ConfigError, match="is not valid TOML") as error:
        load_config(path, environ={})
    assert str(path) in str(error.value)


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="does not exist") as error:
        load_config(path, environ={})
    assert str(path) in str(error.value)


def test_a_folder_given_as_the_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read") as error:
        load_config(tmp_path, environ={})
    assert str(tmp_path) in str(error.value)


def test_database_url_from_the_environment_overrides_the_file(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://bot:secret@db/videobot"
    path = write(tmp_path, '[database]\nurl = "sqlite+aiosqlite:///elsewhere.db"\n')
    config = load_config(path, data_dir=tmp_path, environ={ENV_DATABASE_URL: url})
    assert config.database_url == url
    assert load_config(None, data_dir=tmp_path, environ={ENV_DATABASE_URL: url}).database_url \
        == url


def test_an_empty_environment_variable_is_ignored(tmp_path: Path) -> None:
    config = load_config(None, data_dir=tmp_path, environ={ENV_DATABASE_URL: ""})
    assert config.database.url == ""
    assert config.database_url.startswith("sqlite+aiosqlite:///")


def test_database_url_defaults_to_a_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    config = load_config(None, data_dir=tmp_path / "data", environ={})
    assert config.database_url == f"sqlite+aiosqlite:///{tmp_path / 'data' / 'videobot.db'}"


def test_data_dir_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    from_file = load_config(write(tmp_path, 'data_dir = "here"\n'), environ={})
    assert from_file.data_dir == tmp_path / "here"
    overridden = load_config(write(tmp_path, 'data_dir = "here"\n'), data_dir=Path("there"),
                             environ={})
    assert overridden.data_dir == tmp_path / "there"


@pytest.mark.parametrize(
    ("target", "attribute"),
    [("config", "default_preset"), ("limits", "max_prompt_chars"), ("preset", "frames")],
)
def test_the_config_is_frozen(tmp_path: Path, target: str, attribute: str) -> None:
    config = load_config(None, data_dir=tmp_path, environ={})
    objects: dict[str, Any] = {"config": config, "limits": config.limits,
                               "preset": config.preset()}
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(objects[target], attribute, 1)


def test_config_from_dict_builds_presets_with_their_names(tmp_path: Path) -> None:
    config = config_from_dict({
        "data_dir": str(tmp_path),
        "default_preset": "w",
        "presets": {"w": {"family": "wan", "frames": 17, "width": 64, "height": 64}},
    })
    assert config.preset().name == "w"
    assert config.preset().frames == 17


def test_a_preset_cannot_rename_itself_and_the_console_user_must_be_a_name() -> None:
    with pytest.raises(ConfigError, match=r"^presets\.a\.name: unknown key"):
        config_from_dict({"presets": {"a": {"name": "b"}}, "default_preset": "a"})
    with pytest.raises(ConfigError, match=r"^console\.user: must be a non-empty name"):
        config_from_dict({"console": {"user": ""}})


def _commented_presets() -> dict[str, str]:
    """The ready presets config.example.toml ships commented out, uncommented, by name."""
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = re.match(r"^# \[presets\.([a-z0-9_]+)\]$", line)
        if header:
            current = blocks.setdefault(header.group(1), [line[2:]])
        elif current is not None and re.match(r"^# [a-z0-9_]+ = ", line):
            current.append(line[2:])
        else:
            current = None
    return {name: "\n".join(lines) + "\n" for name, lines in blocks.items()}


def test_the_example_ships_a_ready_preset_for_each_family() -> None:
    families = {
        tomllib.loads(block)["presets"][name]["family"]
        for name, block in _commented_presets().items()
    }
    assert families >= {"wan", "wan-5b", "ltx", "cogvideox", "hunyuan", "text-to-video-sd",
                        "animatediff"}


@pytest.mark.parametrize("name", sorted(_commented_presets()))
def test_each_ready_preset_loads_and_its_defaults_fit_its_family(name: str,
                                                                 tmp_path: Path) -> None:
    text = f'default_preset = "{name}"\n' + _commented_presets()[name]
    path = tmp_path / "videobot.toml"
    path.write_text(text, encoding="utf-8")
    config = load_config(path, environ={})
    preset = config.preset()
    family = family_for_preset(preset)
    assert family.name == preset.family
    defaults = RenderRequest(prompt="p", negative_prompt="", frames=preset.frames,
                             fps=preset.fps, width=preset.width, height=preset.height,
                             steps=preset.steps, guidance=preset.guidance, seed=1,
                             preset=name)
    assert round_to_family(defaults, family) == (defaults, [])
    at_most = defaults.replace(frames=preset.max_frames)
    assert round_to_family(at_most, family)[0].frames == preset.max_frames
    assert preset.model and "/" in preset.model  # a hub id, as the comments say


@pytest.mark.parametrize(("text", "expected"), [
    ("[quotas.tiers.gold]\ncredits = -1\n", "quotas.tiers.gold.credits: must be zero or more"),
    ("[quotas.tiers.gold]\npriority = 1000\n", "quotas.tiers.gold.priority: must be between"),
    ('[quotas.tiers.gold]\nusers = ["bob"]\n', "quotas.tiers.gold.users: 'bob' is not a user"),
    ("[quotas.tiers.gold]\nroles = [1]\n", "quotas.tiers.gold.roles: unknown key"),
    ("[quotas]\ntiers = 3\n", "quotas.tiers: must be a table"),
])
def test_bad_tiers_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(expected)):
        load_config(write(tmp_path, text), environ={})


def test_tiers_load(tmp_path: Path) -> None:
    text = ('[quotas.tiers.gold]\ncredits = 100\npriority = 1\nusers = ["telegram:5"]\n'
            "telegram_chats = [-100]\ndiscord_roles = [7]\n")
    gold = load_config(write(tmp_path, text), environ={}).quotas.tiers["gold"]
    assert (gold.name, gold.credits, gold.priority, gold.users) == ("gold", 100.0, 1,
                                                                   ("telegram:5",))
    assert gold.groups() == {"telegram-chat:-100", "discord-role:7"}


@pytest.mark.parametrize(("text", "expected"), [
    ('[api]\nlisten = "8080"\n', "api.listen: must be host:port, e.g. 127.0.0.1:8080"),
    ('[api]\nlisten = "localhost:99999"\n', "api.listen: must be host:port"),
    ("[api]\nmax_upload_mb = 0\n", "api.max_upload_mb: must be above 0"),
    ('[api]\npublic_url = "videos.example"\n', "api.public_url: must be an http(s) URL"),
    ('[api]\nwebhook_url = "https://h.example/x"\n', "api.webhook_secret: webhook_url needs"),
    ('[api]\nwebhook_secret = "hunter2"\n', "api.webhook_secret: must be whsec_"),
    ("[limits]\nmax_image_mb = 0\n", "limits.max_image_mb: must be positive"),
    ('[api]\nsession_secret = "short"\n', "api.session_secret: must be at least 32"),
    ("[api]\nsession_hours = 0\n", "api.session_hours: must be above 0"),
    ('[api]\nmetrics_allow = ["10.0.0.0/8", "intranet"]\n',
     "api.metrics_allow: 'intranet' is not an IP address or network"),
    ('[api]\ntrusted_proxies = "127.0.0.1"\n', "api.trusted_proxies: must be a list"),
    ("[api]\ndashboard = 1\n", "api.dashboard: must be true or false"),
])
def test_bad_api_values_name_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        load_text(tmp_path, text)
    assert str(error.value).startswith(expected), str(error.value)


def test_the_api_loads_and_its_secret_may_come_from_the_environment(tmp_path: Path) -> None:
    secret = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
    path = tmp_path / "config.toml"
    path.write_text('[api]\nlisten = "[::1]:8081"\nwebhook_url = "https://h.example/x"\n')
    config = load_config(path, environ={"VIDEOBOT_API_WEBHOOK_SECRET": secret})
    assert config.api is not None
    assert (config.api.host, config.api.port, config.api.base_url) == (
        "::1", 8081, "http://[::1]:8081")
    assert config.api.webhook_secret == secret and secret not in repr(config)
    assert load_config(None).api is None


def test_the_session_secret_may_come_from_the_environment_and_is_never_shown(
        tmp_path: Path) -> None:
    secret = "s" * 40
    path = tmp_path / "config.toml"
    path.write_text('[api]\nmetrics_allow = ["127.0.0.1", "fd00::/8"]\n')
    config = load_config(path, environ={"VIDEOBOT_API_SESSION_SECRET": secret})
    assert config.api is not None
    assert config.api.session_secret == secret and secret not in repr(config)
    assert (config.api.metrics_allow, config.api.dashboard) == (("127.0.0.1", "fd00::/8"), True)
