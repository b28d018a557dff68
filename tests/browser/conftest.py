"""Playwright driving Debian's Chromium (scripts/browser.sh installs it) against live_server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import REPO
from tests.kloros_site.dashboard.operator_rows import live_workers, plain_static_storage, worker_probe

__all__ = [
    "browser",
    "live_workers",
    "operator",
    "page",
    "plain_static_storage",
    "screenshot_dir",
    "worker_probe",
]

CHROMIUM = "/usr/bin/chromium"


# per module, not per session: while Playwright runs, every later test would be under its loop
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/browser.sh (test.sh does)")
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an event loop running in the test thread, and Django
        # refuses ORM calls under a running loop; the tests' ORM calls are plain synchronous code
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-dev-shm-usage",
                ],
            )
            yield browser
            browser.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """Where the page screenshots go: docs/screenshots unless KLR_SCREENSHOT_DIR says otherwise."""
    folder = Path(os.environ.get("KLR_SCREENSHOT_DIR") or REPO / "docs" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def operator(live_server, page, django_user_model):
    """A staff user logged in through the admin login form."""
    django_user_model.objects.create_superuser("operator", password="correct horse battery")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "correct horse battery")
    page.click("input[type=submit]")
    page.wait_for_selector("#user-tools")
    return page
