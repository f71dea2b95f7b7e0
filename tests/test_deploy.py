"""The deployment files: the compose file declares the services and volumes the README names
and its config loads; the Dockerfile installs as the Makefile does; the systemd unit lets the
bot stop its own workers. With VIDEOBOT_TEST_CONTAINER=1 and podman (Debian's package), the
image is built and renders a clip in a container (minutes: not part of the default suite)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from videobot.config import WorkerConfig, load_config

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_starts_the_bot_a_worker_and_postgresql_with_data_on_volumes() -> None:
    spec = compose()
    services = spec["services"]
    assert isinstance(services, dict)
    assert set(services) == {"bot", "worker", "db"}
    assert set(spec["volumes"]) == {"videobot-data", "postgres-data"}  # type: ignore[arg-type]
    for name, command in (("bot", ["run", "--no-workers"]), ("worker", ["worker"])):
        service = services[name]
        assert service["build"] == "." and service["command"][-len(command):] == command
        assert "videobot-data:/data" in service["volumes"]
        url = service["environment"]["VIDEOBOT_DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@db/" in url
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
        grace = float(service["stop_grace_period"].removesuffix("s"))
        assert grace > WorkerConfig().shutdown_grace_seconds
    db = services["db"]
    assert db["image"].startswith("postgres:")
    assert "postgres-data:/var/lib/postgresql/data" in db["volumes"]
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Running it as a service", 1)[1].split("\n## ", 1)[0]
    for name in (*services, *spec["volumes"]):  # type: ignore[misc]
        assert f"`{name}`" in section, f"the README does not name {name}"


def test_the_compose_config_loads_with_no_console() -> None:
    mounted = [v for v in compose()["services"]["bot"]["volumes"]  # type: ignore[index]
               if v.endswith(":/etc/videobot/config.toml:ro")]
    [volume] = mounted
    path = ROOT / volume.split(":", 1)[0]
    config = load_config(path, environ={"VIDEOBOT_DATABASE_URL":
                                        "postgresql+asyncpg://videobot:x@db/videobot"})
    assert not config.console.enabled
    assert config.database_url.startswith("postgresql")


def test_the_base_install_is_the_bot_and_the_models_are_the_worker_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[\[<>=!~ ]", requirement)[0].lower()
             for requirement in project["dependencies"]}
    worker = {re.split(r"[\[<>=!~ ]", requirement)[0].lower()
              for requirement in project["optional-dependencies"]["worker"]}
    models = {"torch", "diffusers", "transformers", "accelerate", "tokenizers", "safetensors",
              "ftfy", "numpy"}
    assert models <= worker and not models & names
    assert {"sqlalchemy", "alembic", "aiohttp", "python-telegram-bot", "discord.py", "av",
            "pillow"} <= names


def test_the_dockerfile_installs_as_the_makefile_does() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    makefile = (ROOT / "Makefile").read_text()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    [make_torch] = re.findall(r"^TORCH \?= (\S+)$", makefile, re.M)
    [image_torch] = re.findall(r"^ARG TORCH=(\S+)$", dockerfile, re.M)
    assert make_torch == image_torch
    assert image_torch in pyproject["project"]["optional-dependencies"]["worker"]
    assert 'pip install --quiet ".[worker]"' in dockerfile
    assert 'pip install --quiet -e ".[worker,dev]"' in makefile
    assert "scripts/install-torch.sh /opt/venv/bin/pip /opt/venv/bin/python" in dockerfile
    assert "scripts/install-torch.sh $(BIN)/pip $(BIN)/python" in makefile
    for package in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]:
        name = package.removesuffix("*")
        assert re.search(rf"^COPY {name} {name}$", dockerfile, re.M), f"{name} is not copied"
    [base] = re.findall(r"^ARG BASE_IMAGE=python:(\d+\.\d+)", dockerfile, re.M)
    assert base == pyproject["project"]["requires-python"].removeprefix(">=")
    assert 'ENTRYPOINT ["videobot", "--data-dir", "/data"]' in dockerfile


def test_the_systemd_unit_lets_the_bot_stop_its_workers() -> None:
    unit = (ROOT / "deploy" / "videobot.service").read_text()
    values = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert values["ExecStart"].split()[1:3] == ["run", "--config"]
    assert values["ExecStart"].split()[0].endswith("/.venv/bin/videobot")
    assert values["KillMode"] == "mixed"  # SIGTERM to the bot alone; it stops its workers
    assert float(values["TimeoutStopSec"]) > WorkerConfig().shutdown_grace_seconds


# -- the image, built and run (opt-in) ------------------------------------------------------

#: Limits podman may set inside this sandbox (it refuses to raise them); harmless elsewhere.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]
BASE = "localhost/videobot-test-base:bookworm"


def podman(*args: str, stdin: str | None = None,
           timeout: float = 1500) -> subprocess.CompletedProcess[str]:
    runtime = ["--runtime", "runc"] if shutil.which("runc") else []
    return subprocess.run(["podman", *runtime, *args], input=stdin, capture_output=True,
                          text=True, timeout=timeout)


def base_image(tmp_path: Path) -> str:
    """The Dockerfile's own base if it can be pulled; else a Debian bookworm with Python made
    from Debian's packages (mmdebstrap), for a host that cannot reach Docker Hub."""
    if podman("pull", "python:3.11-slim-bookworm", timeout=120).returncode == 0:
        return "python:3.11-slim-bookworm"
    if podman("image", "exists", BASE).returncode == 0:
        return BASE
    if shutil.which("mmdebstrap") is None:
        pytest.skip("no base image: Docker Hub unreachable and mmdebstrap not installed")
    rootfs = tmp_path / "base.tar"
    subprocess.run(["mmdebstrap", "--variant=minbase",
                    "--include=python3,python3-venv,ca-certificates", "bookworm",
                    str(rootfs)], check=True, capture_output=True, timeout=900)
    assert podman("import", str(rootfs), BASE).returncode == 0
    return BASE


def pip_settings(tmp_path: Path) -> list[str]:
    """This host's CA bundle and local wheels for pip in the build (a TLS-inspecting proxy, a
    torch wheel on disk), mounted read-only; nothing of them stays in the image."""
    conf = tmp_path / "pip.conf"
    lines = ["[global]", "cert = /etc/ssl/certs/ca-certificates.crt"]
    mounts = ["-v", "/etc/ssl/certs:/etc/ssl/certs:ro"]
    if Path("/opt/wheels").is_dir():
        lines.append("find-links = /opt/wheels")
        mounts += ["-v", "/opt/wheels:/opt/wheels:ro"]
    conf.write_text("\n".join(lines) + "\n")
    return [*mounts, "-v", f"{conf}:/etc/pip.conf:ro"]


@pytest.mark.timeout(3000)
@pytest.mark.skipif(os.environ.get("VIDEOBOT_TEST_CONTAINER") != "1",
                    reason="set VIDEOBOT_TEST_CONTAINER=1 to build and run the image (minutes)")
@pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed")
def test_the_image_builds_and_renders_a_clip_in_a_container(tmp_path: Path) -> None:
    from generator.backends.demo.checker import judge
    from videobot.media.frames import read_frames

    base = base_image(tmp_path)
    built = podman("build", "--network", "host", *ULIMITS, *pip_settings(tmp_path),
                   "--build-arg", f"BASE_IMAGE={base}", "-t", "localhost/videobot-test",
                   str(ROOT))
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert "torch: installed 2.13.0+cpu, the CPU build" in built.stdout + built.stderr
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)  # the image runs as its own user
    ran = podman("run", "-i", "--rm", *ULIMITS, "-v", f"{data}:/data",
                 "localhost/videobot-test", "run",
                 stdin="/video a red ball moving to the left --seed 3\n", timeout=600)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert "Job #1 done: /data/clips/job-1-a1.mp4" in ran.stdout
    frames = read_frames(data / "clips" / "job-1-a1.mp4")
    assert frames.shape == (16, 256, 256, 3)
    verdict = judge(frames)
    assert (verdict.colour, verdict.motion) == ("red", "left")
