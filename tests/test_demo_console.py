"""The embedded defaults end to end, as a newcomer's first run: no config at all, the console
chat from a pipe, the demo model in a real worker process, and the prompt's meaning checked
in the delivered MP4 by a judge that reads pixels (not the captioner)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from generator.backends.demo.checker import judge
from tests.processes import videobot
from videobot.media.frames import read_frames

pytestmark = pytest.mark.timeout(240)


def test_first_run_renders_what_the_prompt_says_and_describes_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = videobot("run", data_dir=data,
                     stdin="/video a red ball moving to the left --seed 3\n"
                           "/video a dragon flying over a castle --seed 4\n")
    assert first.returncode == 0, first.stderr
    assert "preset demo" in first.stdout
    assert ("the demo model only knows shapes, colours and motions, so it ignored: dragon, "
            "flying, over, castle") in first.stdout
    clip = Path(re.findall(r"^Job #1 done: (.+)$", first.stdout, re.M)[0])
    frames = read_frames(clip)
    assert frames.shape == (16, 256, 256, 3)
    verdict = judge(frames)
    assert (verdict.colour, verdict.motion) == ("red", "left")
    assert "Job #2 done:" in first.stdout  # an unknown prompt still renders (best effort)
    # /describe is a job: a worker's captioner answers it, delivered before the console ends.
    second = videobot("run", data_dir=data, stdin="/describe 1\n")
    assert second.returncode == 0, second.stderr
    described = re.findall(r"^Job #1 looks like: (.+)\.$", second.stdout, re.M)
    assert described and "red" in described[0] and "left" in described[0]
