"""`videobot submit --extend JOB [prompt]`: the operator's shell extends a clip through the
same core as the chats, and its refusals name the problem."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.cli import main
from storage.connect import close_store, open_store
from tests.backends import render_every_preset
from videobot.config import load_config


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out.strip(), err


async def render_and_read(data: Path, job_id: int | None = None) -> tuple[int | None, str]:
    """Render what is queued (fast stand-in model); then job `job_id`'s source and prompt."""
    config = load_config(None, data_dir=data)
    store = await open_store(config)
    try:
        await render_every_preset(store, config)
        if job_id is None:
            return None, ""
        job = await store.jobs.require(job_id)
        return job.extends, job.request.prompt
    finally:
        await close_store(store)


def test_submit_extend_queues_the_clip_continued(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIDEOBOT_DATABASE_URL", raising=False)
    data = str(tmp_path / "D")
    assert run(capsys, "submit", "a red ball", "--frames", "8", "--data-dir", data)[:2] == (
        0, "1")
    code, _, err = run(capsys, "submit", "--extend", "1", "--data-dir", data)
    assert code == 2 and "job #1 has no clip to extend (it is queued)" in err
    asyncio.run(render_and_read(tmp_path / "D"))
    code, _, err = run(capsys, "submit", "--extend", "1", "--seed", "3", "--data-dir", data)
    assert code == 2 and "--extend keeps the settings of the clip it continues; drop --seed" in err
    assert run(capsys, "submit", "--extend", "1", "then it stops", "--user", "console:bob",
               "--data-dir", data)[:2] == (0, "2")  # the operator may extend anyone's clip
    assert asyncio.run(render_and_read(tmp_path / "D", 2)) == (1, "then it stops")
    code, _, err = run(capsys, "submit", "--data-dir", data)
    assert code == 2 and "give a prompt (or --extend JOB to continue a clip)" in err
