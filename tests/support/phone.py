"""A phone in a real browser for the console tests: Debian's chromium driven by Playwright, one fresh
context (its own storage) per person, signed in through the development picker."""

import time
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect
from sealflow_cli.stack import Stack

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
SLOW = 90_000  # ms: the machine is shared; stages advance through the bus and a worker process


class Phone:
    """One person's phone: a fresh browser context (its own storage), signed in through the picker."""

    def __init__(self, browser: Browser, stack: Stack, shots: Path, person: str) -> None:
        self.context = browser.new_context(base_url=stack.base_url, accept_downloads=True, **PHONE)
        self.context.set_default_timeout(SLOW)
        self.context.shots = shots  # where `until` leaves a screenshot when it gives up
        self.page: Page = self.context.new_page()
        self.shots = shots
        self.page.goto("/app/#/login")
        self.page.select_option("#person", person)
        self.page.get_by_role("button", name="登录", exact=True).click()
        expect(self.page.locator("#who")).not_to_have_text("未登录")

    def go(self, hash_: str) -> Page:
        self.page.goto(f"/app/{hash_}")
        expect(self.page.locator("main h1")).to_be_visible()
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def meanwhile(page: Page, check, what: str, timeout: float = 30) -> None:
    """Let the page run (events, routes) until `check()` is true."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(50)


def until(page: Page, hash_: str, text: str, *, timeout: float = 120) -> None:
    """Reload a page until it shows `text` (the server side moves on its own: the bus, the PDF worker)."""
    deadline = time.monotonic() + timeout
    while True:
        if page.url.endswith(f"/app/{hash_}"):
            page.reload()  # (a goto to the same URL and fragment would not load anything)
        else:
            page.goto(f"/app/{hash_}")
        expect(page.locator("main h1")).to_be_visible()
        page.wait_for_load_state("networkidle")
        if page.get_by_text(text).count():
            return
        if time.monotonic() > deadline:
            page.screenshot(path=str(Path(page.context.shots) / "timed-out.png"), full_page=True)
            raise AssertionError(f"{hash_} did not show {text!r} within {timeout:.0f} s")
        time.sleep(1.0)


def axe_problems(page: Page, where: str) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now (minor ones are printed)."""
    page.wait_for_load_state("networkidle")
    expect(page.locator("main .loading")).to_have_count(0)
    problems = []
    for violation in Axe().run(page).response["violations"]:
        line = f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}"
        print(line)
        if violation["impact"] in ("serious", "critical"):
            problems.append(line)
    return problems
