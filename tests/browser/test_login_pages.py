"""Logging in through the pages themselves: the portal's login link, the sandbox's login and consent
pages, and back on the portal where the user was going. (The other tests log in over HTTP: the `login`
fixture.)"""
from __future__ import annotations

import pytest

from tests.browser.helpers import log_in


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_login_and_consent_pages_lead_back_to_where_the_user_was_going(request, portal, user, javascript):
    page = request.getfixturevalue("page" if javascript else "nojs_page")
    log_in(page, portal.url, user, next_path="/upload")
    assert page.get_by_role("heading", name="Upload a datapack").is_visible()
