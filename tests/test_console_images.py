"""A picture with `/video` from the bot's own computer: `--image PATH` in the console chat and
in `videobot submit`, read by those front doors only; a chat platform may not name a path."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from bot.adapters.console import ConsoleAdapter
from bot.cli import main
from bot.core import replies
from bot.core.animating import DEMO_ANIMATE_PROMPT
from bot.core.commands import Core
from storage.inputs import input_image
from storage.store import Store
from videobot.config import Config, config_from_dict
from videobot.users import UserRef

#: The demo model at the tiny preset's size, so that the fitting notes read the same.
DEMO_64 = {"demo": {"backend": "demo", "model": "builtin:demo", "family": "demo", "width": 64,
                   "height": 64}}


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    """The demo preset: it animates a picture (the tiny text-to-video preset refuses one)."""
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": "demo",
                             "database": {"url": database_url}, "presets": DEMO_64})


CONSOLE_USER = UserRef("console", "alice", "alice")


def picture(path: Path, size: tuple[int, int] = (96, 64)) -> Path:
    Image.new("RGB", size, (220, 30, 30)).save(path, format="PNG")
    return path


async def console_says(store: Store, config: Config, *lines: str) -> list[str]:
    """What the console chat answers to `lines` (no worker: nothing is rendered)."""
    said: list[str] = []
    console = ConsoleAdapter(core=Core(store=store, config=config), store=store,
                             user_name="alice", stdin=io.StringIO("".join(
                                 f"{line}\n" for line in (*lines, "/quit"))),
                             write=said.append)
    await asyncio.wait_for(console.run(), 20)
    return said[:-1]  # less the goodbye


async def test_a_path_relative_to_the_current_folder_is_stored_with_the_job(
        store: Store, config: Config, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    picture(tmp_path / "square.png")
    monkeypatch.chdir(tmp_path)
    [answer] = await console_says(store, config,
                                  "/video a red square moves right --image square.png")
    [job] = await store.jobs.jobs_of(CONSOLE_USER)
    assert answer.startswith(f"Job #{job.id} queued")
    assert "the image (96x64) was centre-cropped to the clip's shape and resized to 64x64" \
        in answer
    assert job.request.prompt == "a red square moves right"
    stored = await input_image(store.engine, job.id)
    assert stored is not None
    image = Image.open(io.BytesIO(stored))
    assert (image.format, image.size) == ("PNG", (64, 64))
    assert image.getpixel((32, 32)) == (220, 30, 30)


async def test_animate_with_a_path_queues_the_picture_with_the_default_prompt(
        store: Store, config: Config, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    picture(tmp_path / "square.png")
    monkeypatch.chdir(tmp_path)
    [answer] = await console_says(store, config, "/animate --image square.png")
    [job] = await store.jobs.jobs_of(CONSOLE_USER)
    assert answer.startswith(f"Job #{job.id} queued")
    assert (job.request.preset, job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)
    assert await input_image(store.engine, job.id) is not None


async def test_animate_without_a_path_says_how_to_give_one(store: Store,
                                                           config: Config) -> None:
    [answer] = await console_says(store, config, "/animate it spins")
    assert answer == f"Sorry: {replies.animate_needs_picture('console', ['demo'])}."
    assert "--image FILE" in answer
    assert await store.jobs.jobs_of(CONSOLE_USER) == []


@pytest.mark.parametrize(("name", "reason"), [
    ("missing.png", replies.IMAGE_FILE_MISSING),
    ("folder", replies.IMAGE_PATH_IS_FOLDER),
])
async def test_a_file_that_cannot_be_read_is_named_and_nothing_is_queued(
        store: Store, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        name: str, reason: str) -> None:
    (tmp_path / "folder").mkdir()
    monkeypatch.chdir(tmp_path)
    answers = await console_says(store, config, f"/video a red ball --image {name}")
    assert answers == [f"Sorry: {replies.image_file_unreadable(name, reason)}."]
    assert await store.jobs.jobs_of(CONSOLE_USER) == []


async def test_a_file_that_is_not_a_picture_is_refused_by_its_content(
        store: Store, config: Config, tmp_path: Path) -> None:
    fake = tmp_path / "notes.png"
    fake.write_text("shopping list: eggs, milk")
    answers = await console_says(store, config, f'/video a red ball --image "{fake}"')
    assert answers == ["Sorry: the image is not a PNG, JPEG or WebP file."]
    assert await store.jobs.jobs_of(CONSOLE_USER) == []
    assert not list((config.data_dir / "inputs").glob("*"))


async def test_a_chat_platform_may_not_name_a_path_on_the_bots_computer(
        store: Store, config: Config, tmp_path: Path) -> None:
    secret = picture(tmp_path / "private.png")
    user = UserRef("telegram", "42", "Mallory")
    reply = await Core(store=store, config=config).handle(
        user, f"/video a red ball --image {secret}", {"chat_id": 42})
    assert reply.text == f"Sorry: {replies.IMAGE_PATH_CONSOLE_ONLY}."
    assert await store.jobs.jobs_of(user) == []


def test_videobot_submit_queues_the_picture_with_the_job(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIDEOBOT_DATABASE_URL", raising=False)
    picture(tmp_path / "cat.png", (64, 64))
    data = tmp_path / "D"
    assert main(["submit", "a cat wakes up", "--image", "cat.png", "--preset", "demo",
                 "--data-dir", str(data)]) == 0
    assert capsys.readouterr().out.strip() == "1"
    [stored] = list((data / "inputs").glob("input-*.png"))
    with Image.open(stored) as image:  # fitted to the demo preset's size
        assert image.size == (256, 256)


def test_videobot_submit_names_a_missing_picture_and_creates_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIDEOBOT_DATABASE_URL", raising=False)
    code = main(["submit", "a cat", "--image", "cat.png", "--data-dir", str(tmp_path / "D")])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.strip() == ("videobot: "
                           + replies.image_file_unreadable("cat.png", replies.IMAGE_FILE_MISSING))
    assert not (tmp_path / "D").exists()
