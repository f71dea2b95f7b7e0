"""Installing: `make` picks the torch build that suits the host (CPU build from PyTorch's CPU
index without an NVIDIA GPU, falling back quickly to the default index; the CUDA build with
one) and says which, and tells a newcomer how to call `videobot`. pip and nvidia-smi are
stand-ins here (no network, no GPU); the script, make and the Python that reports the
installed build are real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install-torch.sh"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"

#: A pip that records its arguments, and fails for PyTorch's index while it is "down".
FAKE_PIP = """#!/bin/sh
echo "$*" >> "$PIP_CALLS"
case "$*" in *download.pytorch.org*) [ -n "$INDEX_DOWN" ] && exit 1;; esac
exit 0
"""


def install(tmp_path: Path, *, gpu: bool, index_down: bool = False) -> tuple[str, list[str]]:
    """Run the script; returns its output and the pip calls it made."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "pip").write_text(FAKE_PIP)
    if gpu:
        (tools / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H100 (UUID: x)'\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": f"{tools}:/usr/bin:/bin", "PIP_CALLS": str(calls),
           "INDEX_DOWN": "1" if index_down else "", "HOME": str(tmp_path)}
    result = subprocess.run([str(SCRIPT), str(tools / "pip"), sys.executable, "torch==2.13.0"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout, calls.read_text().splitlines()


def test_without_a_gpu_the_cpu_build_comes_from_pytorchs_cpu_index(tmp_path: Path) -> None:
    out, calls = install(tmp_path, gpu=False)
    [call] = calls
    assert call.startswith("install") and f"--index-url {CPU_INDEX} torch==2.13.0" in call
    words = call.split()
    assert int(words[words.index("--timeout") + 1]) <= 30  # fall back quickly
    assert words[words.index("--retries") + 1] == "0"
    assert "no NVIDIA GPU found: installing the CPU build" in out
    import torch

    build = "the CPU build" if torch.version.cuda is None else "CUDA"
    assert f"torch: installed {torch.__version__}, {build}" in out


def test_when_pytorchs_index_cannot_be_reached_the_default_index_is_used(
    tmp_path: Path
) -> None:
    out, calls = install(tmp_path, gpu=False, index_down=True)
    assert len(calls) == 2 and CPU_INDEX in calls[0]
    assert calls[1] == "install --quiet torch==2.13.0"
    assert (f"{CPU_INDEX} could not be used; installing torch==2.13.0 from the default "
            "index") in out


def test_with_an_nvidia_gpu_the_default_index_gives_the_cuda_build(tmp_path: Path) -> None:
    out, calls = install(tmp_path, gpu=True)
    assert calls == ["install --quiet torch==2.13.0"]
    assert "an NVIDIA GPU is present: installing the CUDA build" in out


def make(*args: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT,
                            capture_output=True, text=True, timeout=60,
                            env={**os.environ, "MAKEFLAGS": ""})
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "videobot").exists(), reason="no .venv")
def test_make_uses_the_script_and_says_how_to_call_videobot() -> None:
    recipe = make("-n", "-B", ".venv/bin/videobot")  # what it would run, run nothing
    assert 'scripts/install-torch.sh .venv/bin/pip .venv/bin/python "torch==2.13.0"' in recipe
    said = make("-s", "-o", ".venv/bin/videobot", "install")  # the venv taken as up to date
    assert said.strip() == ("videobot is installed in .venv: call .venv/bin/videobot, or put "
                            "it on PATH for this shell with: . .venv/bin/activate")


def test_the_readme_says_how_to_get_videobot_on_path() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    assert ". .venv/bin/activate" in section and ".venv/bin/videobot" in section
