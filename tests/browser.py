"""A real headless Chromium (Debian's `chromium` and `chromium-driver`, which `.ci/run`
installs) driven by Selenium, for the dashboard's tests. Selenium's calls block, so each runs
in a thread: the server under test shares the test's event loop and must keep serving."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

T = TypeVar("T")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--autoplay-policy=no-user-gesture-required")
WINDOW = (1100, 760)


@contextmanager
def chromium(profile: Path) -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a fresh profile in `profile`, its console log kept."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are not installed; .ci/run installs them")
        pytest.skip("chromium and chromium-driver not installed (apt-get install chromium "
                    "chromium-driver)")
    options = Options()
    options.binary_location = binary
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    try:
        browser.set_window_size(*WINDOW)
        yield browser
    finally:
        browser.quit()


class Browser:
    """The shared Chromium, one async call at a time."""

    def __init__(self, driver: webdriver.Chrome, screenshots: Path) -> None:
        self.driver = driver
        self.screenshots = screenshots

    async def call(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.to_thread(work, *args)

    async def fresh(self) -> None:
        """Forget every cookie and the console log (a new test, a new visitor)."""
        await self.call(self.driver.execute_cdp_cmd, "Network.clearBrowserCookies", {})
        await self.errors()

    async def open(self, url: str) -> None:
        await self.call(self.driver.get, url)

    async def find(self, css: str) -> WebElement:
        return await self.call(self.driver.find_element, By.CSS_SELECTOR, css)

    async def all(self, css: str) -> list[WebElement]:
        return await self.call(self.driver.find_elements, By.CSS_SELECTOR, css)

    async def text(self, css: str) -> str:
        return await self.call(lambda: self.driver.find_element(By.CSS_SELECTOR, css).text)

    async def script(self, source: str, *args: Any) -> Any:
        return await self.call(self.driver.execute_script, source, *args)

    async def click(self, css: str) -> None:
        """Click the element (again found, should the page have replaced it meanwhile)."""

        def click() -> bool:
            self.driver.find_element(By.CSS_SELECTOR, css).click()
            return True

        await self.until(click)

    async def sign_in(self, root: str, key: str) -> None:
        """Through the form, as a person would: type the key, press the button."""
        await self.open(f"{root}/dashboard/signin")
        field = await self.find("#key")
        await self.call(field.send_keys, key)
        await self.click("form button[type=submit]")

    async def until(self, condition: Callable[[], Any], seconds: float = 10.0) -> Any:
        """Poll `condition` (run in a thread) until it is truthy; its value."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                value = await self.call(condition)
            except (NoSuchElementException, StaleElementReferenceException):
                value = None  # the page is still loading, or was just replaced
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {seconds} s: {condition}")
            await asyncio.sleep(0.1)

    async def screenshot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        await self.call(self.driver.save_screenshot, str(path))
        return path

    async def errors(self) -> list[str]:
        """The console's errors since the last look (and forget them)."""
        entries = await self.call(self.driver.get_log, "browser")
        return [entry["message"] for entry in entries if entry["level"] == "SEVERE"]
