"""Steps every browser journey takes: the main menu, clicks that load a page, the success alert."""

from __future__ import annotations

import re


def nav(tab, label: str) -> None:  # type: ignore[no-untyped-def]
    """Follow a main-menu link (opening its dropdown first) and wait for the new page."""
    menu = tab.locator("nav.app-navbar")
    # Not get_by_role: it skips the hidden entries of a closed dropdown.
    exact = re.compile(f"^{re.escape(label)}$")
    link = menu.locator("a", has_text=exact)
    if not link.is_visible():
        # On a phone the whole menu is collapsed behind the toggler.
        toggler = menu.locator(".navbar-toggler")
        if toggler.is_visible():
            toggler.click()
        menu.locator("li.dropdown", has=tab.locator("a", has_text=exact)).locator("a.dropdown-toggle").click()
    with tab.expect_navigation():
        link.click()


def click(tab, locator) -> None:  # type: ignore[no-untyped-def]
    """Click something that loads a new page and wait for that page."""
    with tab.expect_navigation():
        locator.click()


def alert(tab):  # type: ignore[no-untyped-def]
    """The success message of the page."""
    return tab.locator(".alert-success")
