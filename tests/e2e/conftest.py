"""Browser fixtures: Debian's chromium driven by Playwright against pytest-django's live server.

Playwright's own browser download cannot work here (no network but package registries), so
the browser is the system chromium (`apt-get install chromium`), launched by path. Without it
the tests skip locally and fail in CI (`require_or_skip`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, chromium_path, require_or_skip

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread
# with a running loop unless told that this is deliberate (the ORM is used between page steps).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# As the machine notes advise for this closed network: without the background-networking flags
# chromium keeps trying (and failing) to reach Google's services at every start.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[object]:
    executable = chromium_path()
    require_or_skip(executable is not None, "chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium_browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """A page in a fresh browser context (no cookies) on the live server, desktop size, in Chinese.

    Not named `page`: that is pytest-playwright's fixture, which would launch its own browser
    download and parametrise the tests by its --browser option.
    """
    context = chromium_browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[object, str], None]:
    """screenshot(page, name): full-page PNGs at desktop and phone width in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:  # type: ignore[no-untyped-def]
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    return take


@pytest.fixture
def log_in() -> Callable[..., None]:
    """log_in(page, username, password=PASSWORD): through the real login form."""

    def submit(page, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
        page.goto("/accounts/login/")
        page.get_by_label("账号").fill(username)
        page.get_by_label("密码").fill(password)
        # Wait for the answer to this POST: a failed login stays on the same URL, and the next
        # goto() must not cut the request short (a lost attempt would not count for the lockout).
        with page.expect_navigation():
            page.get_by_role("button", name="登录").click()

    return submit


@pytest.fixture
def new_tab(chromium_browser, live_server) -> Iterator[Callable[[], object]]:  # type: ignore[no-untyped-def]
    """new_tab(): another page in its own fresh context (its own cookies), set up like `tab`.

    For journeys where several people take turns: each keeps their own session open.
    """
    contexts = []

    def open_tab():  # type: ignore[no-untyped-def]
        context = chromium_browser.new_context(
            base_url=live_server.url, viewport=DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()
