"""The dashboard in a real headless Chromium (one for the module), against the real server,
core and job store on SQLite and PostgreSQL, with clips rendered by the demo model: signing
in through the form, who sees which jobs, a clip that plays, the queue's progress moving
without a reload, a rendering job's preview following its render, cancel from the page,
and no JavaScript error on any page. Screenshots of every page are saved under the test
session's temporary folder (the path is printed); `VIDEOBOT_DOCS_SCREENSHOTS=1` also writes
the queue's and the gallery's into docs/images/."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from selenium import webdriver

from generator.previews import preview_image
from storage.models import JobStatus
from storage.previews import PreviewStore
from storage.store import Store
from tests.api_helpers import ALICE, BOB, Api, api_config, user
from tests.browser import WINDOW, Browser, chromium
from tests.conftest import FakeClock
from tests.dashboard_helpers import queued, render_all, started_dashboard
from videobot.config import Config

pytestmark = pytest.mark.timeout(180)
DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
PAGES = ("queue", "clips", "workers", "users", "audit", "stats")
PHONE = (390, 844)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as started:
        yield started


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard-screenshots")
    print(f"\ndashboard screenshots: {folder}")
    return folder


@pytest.fixture
async def browser(driver: webdriver.Chrome, screenshots: Path) -> AsyncIterator[Browser]:
    started = Browser(driver, screenshots)
    await started.fresh()
    yield started
    await started.open("about:blank")  # closes the queue's stream while the server still runs
    assert await started.errors() == []  # no JavaScript error, on any page it opened


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, limits={"max_queued_per_user": 10})


@pytest.fixture
async def api(store: Store, config: Config) -> AsyncIterator[Api]:
    async with started_dashboard(store, config) as started:
        yield started


async def texts(browser: Browser, css: str, attribute: str = "textContent") -> list[str]:
    """What the elements matching `css` hold, read at one moment (the queue's rows are
    replaced whenever the stream sends them)."""
    return list(await browser.script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e[arguments[1]].trim())",
        css, attribute))


async def row_ids(browser: Browser) -> list[str]:
    return await texts(browser, "#queue-rows tr[id]", "id")


async def test_the_admin_signs_in_sees_both_users_jobs_and_a_clip_that_plays(
        api: Api, store: Store, browser: Browser, database_url: str,
        clock: FakeClock) -> None:
    for who, prompt in ((ALICE, "a red ball moving to the left"),
                        (BOB, "a blue square moving up"), (ALICE, "a yellow triangle growing"),
                        (BOB, "a green circle moving down"), (ALICE, "a purple box shrinking"),
                        (BOB, "an orange ball moving right")):
        await queued(store, user(who), prompt)
    assert await render_all(api, clock, seconds=40) == 6  # 40 s a clip, as on a GPU
    running = await queued(store, user(BOB), "a white square moving left", seed=3)
    claimed = await store.leases.claim_next_job("gpu-box:1:cuda:0")
    assert claimed is not None and claimed.id == running.id
    clock.advance(20)
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=2, total=4)
    waiting = [await queued(store, user(ALICE), "a red <b>triangle</b> moving up"),
               await queued(store, user(BOB), "a blue ball growing")]

    await browser.sign_in(api.root, await api.key("shell:ops", admin=True))
    await browser.until(lambda: browser.driver.current_url.endswith("/dashboard/queue"))
    assert await row_ids(browser) == [f"job-{running.id}", *(f"job-{j.id}" for j in waiting)]
    assert await texts(browser, "td.user") == ["telegram:4242", "console:alice",
                                                "telegram:4242"]
    # Half done after 20 s: 20 s left; then 40 s a job on the one worker there is.
    assert await texts(browser, "td.eta") == ["20 s", "60 s", "2 min"]
    assert "red <b>triangle</b>" in (await texts(browser, f"#job-{waiting[0].id} .prompt"))[0]
    shots = {"queue": await browser.screenshot(f"queue-{_kind(database_url)}")}

    await browser.open(f"{api.root}/dashboard/clips")
    posters = await browser.until(lambda: browser.driver.execute_script(
        "const imgs = [...document.querySelectorAll('.gallery img')];"
        "return imgs.length === 6 && imgs.every(i => i.complete && i.naturalWidth > 0)"
        " && imgs.length"))
    assert posters == 6
    shots["gallery"] = await browser.screenshot(f"gallery-{_kind(database_url)}")

    await browser.open(f"{api.root}/dashboard/clips/1")
    playing = await browser.until(lambda: browser.driver.execute_script(
        "const v = document.getElementById('clip-video');"
        "return v && ((v.readyState >= 2 && v.currentTime > 0) ? 'playing' : "
        "(v.error ? 'poster' : false));"))
    assert playing in ("playing", "poster")
    if playing == "poster":  # a Chromium without H.264 still shows the clip's poster
        assert await browser.script(
            "const i = new Image(); i.src = document.getElementById('clip-video').poster;"
            "await i.decode(); return i.naturalWidth;") == 256
    await browser.screenshot(f"clip-{_kind(database_url)}")
    for page in PAGES[2:]:
        await browser.open(f"{api.root}/dashboard/{page}")
        assert (await browser.text("h1")).lower() == page
        await browser.screenshot(f"{page}-{_kind(database_url)}")
    if os.environ.get("VIDEOBOT_DOCS_SCREENSHOTS") and _kind(database_url) == "sqlite":
        for name, path in shots.items():
            _small_png(path, DOCS_IMAGES / f"dashboard-{name}.png")


async def test_a_plain_user_sees_only_their_own_and_a_wrong_key_sees_no_job(
        api: Api, store: Store, browser: Browser) -> None:
    alices = await queued(store, user(ALICE), "a red ball moving to the left")
    await queued(store, user(BOB), "a blue square moving up")
    await browser.sign_in(api.root, "vb-this-is-not-a-key")
    message = await browser.until(lambda: browser.driver.find_element(
        "css selector", "[role=alert]").text)
    assert "unknown or has been revoked" in message
    # The one console entry: the refused form's own status (a network line, not a script's).
    [refused] = await browser.errors()
    assert "/dashboard/signin - Failed to load resource" in refused and "401" in refused
    assert await browser.all("#queue-rows tr") == []
    await browser.open(f"{api.root}/dashboard/queue")
    assert "/dashboard/signin" in browser.driver.current_url
    await browser.screenshot("signin-refused")

    await browser.sign_in(api.root, await api.key(ALICE))
    await browser.until(lambda: browser.driver.current_url.endswith("/dashboard/queue"))
    assert await row_ids(browser) == [f"job-{alices.id}"]
    assert await texts(browser, "td.user") == []
    assert await texts(browser, ".top nav a") == ["Queue", "Clips"]
    await browser.call(browser.driver.set_window_size, *PHONE)
    try:  # on a phone: the page fits the screen's width (a wide table scrolls in its box)
        await browser.open(f"{api.root}/dashboard/queue")
        assert await browser.script(
            "return document.documentElement.scrollWidth <= window.innerWidth")
        await browser.screenshot("queue-phone")
    finally:
        await browser.call(browser.driver.set_window_size, *WINDOW)


async def test_the_queue_moves_without_a_reload_and_cancel_cancels_in_the_database(
        api: Api, store: Store, browser: Browser) -> None:
    running = await queued(store, user(ALICE), "a red ball moving to the left")
    waiting = await queued(store, user(ALICE), "a blue square moving up")
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == running.id
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=1, total=4)
    await browser.sign_in(api.root, await api.key(ALICE))
    await browser.until(lambda: browser.driver.current_url.endswith("/dashboard/queue"))

    def progress() -> str | None:
        return browser.driver.execute_script(
            "const bar = document.querySelector(arguments[0]);"
            "return bar && bar.getAttribute('value');", f"#job-{running.id} progress")

    assert await browser.call(progress) == "25"
    await browser.script("window.loadedOnce = 'still this page';")
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=3, total=4)
    await browser.until(lambda: progress() == "75")
    assert await browser.script("return window.loadedOnce;") == "still this page"

    await browser.click(f"#job-{waiting.id} button")
    await browser.until(lambda: "cancelled" in browser.driver.execute_script(
        "const flash = document.querySelector('.flash'); return flash ? flash.textContent : ''"))
    assert (await store.jobs.require(waiting.id)).status == JobStatus.CANCELLED
    await browser.until(lambda: f"job-{waiting.id}" not in browser.driver.page_source)
    await browser.screenshot("queue-after-cancel")


async def test_a_rendering_jobs_preview_shows_in_its_row_and_follows_the_render(
        api: Api, store: Store, browser: Browser, config: Config) -> None:
    running = await queued(store, user(ALICE), "a red ball moving to the left")
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == running.id
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=1, total=4)
    previews = PreviewStore.of(store.context, config)
    # As a worker stores them: 2 light frames after step 1, then 3 dark ones after step 3.
    await previews.save(claimed.id, claimed.attempt,
                        preview_image(1, 4, np.full((2, 90, 160, 3), 220, np.uint8)))
    await browser.sign_in(api.root, await api.key(ALICE))
    await browser.until(lambda: browser.driver.current_url.endswith("/dashboard/queue"))

    def shown() -> tuple[int, int] | None:
        """The preview's (width, mean brightness) once its image has loaded."""
        return browser.driver.execute_script(
            "const img = document.querySelector(arguments[0]);"
            "if (!img || !img.complete || !img.naturalWidth) return null;"
            "const c = document.createElement('canvas');"
            "c.width = img.naturalWidth; c.height = img.naturalHeight;"
            "const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
            "const d = g.getImageData(0, 0, c.width, c.height).data; let sum = 0;"
            "for (let i = 0; i < d.length; i += 4) sum += d[i];"
            "return [img.naturalWidth, Math.round(sum / (d.length / 4))];",
            f"#job-{running.id} img.preview")

    width, light = await browser.until(shown)
    assert width == 320 and light > 200
    assert await texts(browser, "img.preview", "alt") == [f"Job #{running.id} forming, at step 1"]
    await browser.screenshot("queue-preview")
    await browser.script("window.loadedOnce = 'still this page';")
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=3, total=4)
    await previews.save(claimed.id, claimed.attempt,
                        preview_image(3, 4, np.full((3, 90, 160, 3), 30, np.uint8)))
    width, dark = await browser.until(lambda: (found := shown()) and found[0] == 480 and found)
    assert dark < 50
    assert await browser.script("return window.loadedOnce;") == "still this page"


def _kind(database_url: str) -> str:
    return "postgresql" if database_url.startswith("postgresql") else "sqlite"


def _small_png(source: Path, target: Path) -> None:
    """A screenshot for the docs: 256 colours, compressed (a few tens of KB)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image.convert("RGB").quantize(colors=256).save(target, optimize=True)
