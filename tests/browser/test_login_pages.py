"""Logging in through the pages themselves, without JavaScript: the portal's login link, the sandbox's
login and consent pages, and back on the portal where the user was going. (The other tests log in over
HTTP, the `login` fixture; the phone check in test_accessibility.py walks these pages with JavaScript on.)"""
from __future__ import annotations

from tests.browser.helpers import log_in


def test_the_login_and_consent_pages_lead_back_to_where_the_user_was_going(nojs_page, portal, user):
    log_in(nojs_page, portal.url, user, next_path="/upload")
    assert nojs_page.get_by_role("heading", name="Upload a datapack").is_visible()
