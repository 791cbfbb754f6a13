"""Fixtures shared by the console tests (a browser per module, a directory for screenshots)."""

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.support.phone import CHROMIUM, CHROMIUM_ARGS, SLOW


@pytest.fixture(scope="module")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is required (apt-get install chromium; see .ci/run)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Assertions wait as long as actions: a submission answered in 6 s on a loaded CI machine is slow, not wrong.
        expect.set_options(timeout=SLOW)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("console-screens")
