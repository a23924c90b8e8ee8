"""The OAuth2 authorization-code flow, driven over HTTP the way a browser and a web client would."""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from urllib.parse import urljoin, urlsplit

import pytest
import requests


from .helpers import API, TIMEOUT, expire_token, form_action, hidden_field, log_in_and_decide, query_of, unique

REDIRECT_URI = "http://127.0.0.1:9/portal/callback"
OTHER_REDIRECT_URI = "http://localhost:9/other/callback"
PASSWORD = "correct horse"


class Flow:
    """One registered client and one user of a sandbox, with the steps of the flow as methods."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.username = unique("person")
        sandbox.add_user(self.username, PASSWORD)
        self.client = sandbox.add_client("Test Portal", [REDIRECT_URI, OTHER_REDIRECT_URI])

    def authorize(self, decision="yes", redirect_uri=REDIRECT_URI, **extra):
        state = secrets.token_urlsafe(8)
        params = {"response_type": "code", "client_id": self.client["client_id"], "redirect_uri": redirect_uri,
                  "scope": "basic", "state": state, **extra}
        answer = log_in_and_decide(requests.Session(), self.sandbox.url, params, self.username, PASSWORD, decision)
        assert answer.status_code == 302, answer.text
        location = answer.headers["Location"]
        assert location.startswith(redirect_uri + "?")
        query = query_of(location)
        assert query["state"] == state
        return query

    def code(self, **extra) -> str:
        return self.authorize(**extra)["code"]

    def token_request(self, data: dict, method="basic") -> requests.Response:
        url = self.sandbox.url + "/oauth/token"
        if method == "basic":
            return requests.post(url, data=data, auth=(self.client["client_id"], self.client["client_secret"]),
                                 timeout=TIMEOUT)
        return requests.post(url, timeout=TIMEOUT, data={**data, "client_id": self.client["client_id"],
                                                          "client_secret": self.client["client_secret"]})

    def exchange(self, code: str, method="basic", redirect_uri=REDIRECT_URI, **extra) -> requests.Response:
        return self.token_request({"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                                   **extra}, method)

    def refresh(self, refresh_token: str, method="basic") -> requests.Response:
        return self.token_request({"grant_type": "refresh_token", "refresh_token": refresh_token}, method)

    def api_user(self, access_token: str) -> requests.Response:
        return requests.get(self.sandbox.url + API + "/user", headers={"Authorization": f"Bearer {access_token}"},
                            timeout=TIMEOUT)


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture(scope="module")
def flow(sandbox):
    return Flow(sandbox)


@pytest.mark.parametrize("method", ["basic", "post"])
def test_code_for_token_then_api_call(flow, method):
    token = flow.exchange(flow.code(), method=method)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"].lower() == "bearer"
    assert body["scope"] == "basic"
    assert body["expires_in"] == 3600
    assert body["refresh_token"]
    user = flow.api_user(body["access_token"])
    assert user.status_code == 200
    assert user.json()["username"] == flow.username


def test_pkce_s256_is_accepted(flow):
    verifier, challenge = pkce_pair()
    code = flow.code(code_challenge=challenge, code_challenge_method="S256")
    token = flow.exchange(code, code_verifier=verifier)
    assert token.status_code == 200, token.text


def test_a_wrong_pkce_verifier_is_refused(flow):
    _verifier, challenge = pkce_pair()
    code = flow.code(code_challenge=challenge, code_challenge_method="S256")
    token = flow.exchange(code, code_verifier=pkce_pair()[0])
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_a_missing_pkce_verifier_is_refused(flow):
    _verifier, challenge = pkce_pair()
    code = flow.code(code_challenge=challenge, code_challenge_method="S256")
    assert flow.exchange(code).status_code == 400


def test_a_code_works_once(flow):
    code = flow.code()
    assert flow.exchange(code).status_code == 200
    again = flow.exchange(code)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_a_wrong_client_secret_is_refused(flow):
    code = flow.code()
    token = requests.post(flow.sandbox.url + "/oauth/token", timeout=TIMEOUT,
                          data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
                          auth=(flow.client["client_id"], "not-the-secret"))
    assert token.status_code == 401
    assert token.json()["error"] == "invalid_client"


def test_the_token_request_must_repeat_the_same_redirect_uri(flow):
    code = flow.code()
    token = flow.exchange(code, redirect_uri=OTHER_REDIRECT_URI)
    assert token.status_code == 400
    assert token.json()["error"] == "invalid_grant"


def test_a_second_registered_redirect_uri_works(flow):
    code = flow.code(redirect_uri=OTHER_REDIRECT_URI)
    assert flow.exchange(code, redirect_uri=OTHER_REDIRECT_URI).status_code == 200


@pytest.mark.parametrize("redirect_uri", ["http://evil.example/callback", REDIRECT_URI + "/more",
                                          REDIRECT_URI + "?x=1", REDIRECT_URI.replace("127.0.0.1", "localhost")])
def test_an_unregistered_redirect_uri_is_never_redirected_to(flow, redirect_uri):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    answer = session.get(flow.sandbox.url + "/oauth/authorize", allow_redirects=False, timeout=TIMEOUT, params={
        "response_type": "code", "client_id": flow.client["client_id"], "redirect_uri": redirect_uri,
        "scope": "basic", "state": "s"})
    assert answer.status_code == 400
    assert "Location" not in answer.headers
    assert "refused" in answer.text


def logged_in_cookies(flow):
    session = requests.Session()
    page = session.get(flow.sandbox.url + "/login", timeout=TIMEOUT)
    answer = session.post(flow.sandbox.url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "username": flow.username, "password": PASSWORD, "csrf_token": hidden_field(page.text, "csrf_token")})
    assert answer.status_code == 302
    return session.cookies


def test_an_unknown_client_is_refused_on_the_page(flow):
    """RFC 6749 4.1.2.1: an invalid client identifier is shown to the user, never redirected. A bad request
    (400), not 401: no client authenticated here, so there is no authentication scheme to challenge."""
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    answer = session.get(flow.sandbox.url + "/oauth/authorize", allow_redirects=False, timeout=TIMEOUT, params={
        "response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT_URI, "state": "s"})
    assert answer.status_code == 400
    assert "Location" not in answer.headers and "WWW-Authenticate" not in answer.headers
    assert "<code>invalid_client</code>" in answer.text


def test_an_unknown_scope_goes_back_to_the_client_as_an_error(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    answer = session.get(flow.sandbox.url + "/oauth/authorize", allow_redirects=False, timeout=TIMEOUT, params={
        "response_type": "code", "client_id": flow.client["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": "admin", "state": "s1"})
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith(REDIRECT_URI)
    assert query_of(answer.headers["Location"]) | {"error_description": ""} == {
        "error": "invalid_scope", "state": "s1", "error_description": ""}


def test_deny_sends_access_denied_with_the_state(flow):
    query = flow.authorize(decision="no")
    assert query["error"] == "access_denied"
    assert "code" not in query


def test_consent_page_names_the_client_and_the_scope(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    page = session.get(flow.sandbox.url + "/oauth/authorize", timeout=TIMEOUT, params={
        "response_type": "code", "client_id": flow.client["client_id"], "redirect_uri": REDIRECT_URI,
        "scope": "basic", "state": "s"})
    assert page.status_code == 200
    assert page.headers["X-Frame-Options"] == "DENY"
    for text in ("Test Portal", "basic", "Authorize", "Deny", "repovizz2 sandbox", 'name="confirm"'):
        assert text in page.text


def test_consent_without_the_csrf_token_is_refused(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    params = {"response_type": "code", "client_id": flow.client["client_id"], "redirect_uri": REDIRECT_URI,
              "scope": "basic", "state": "s"}
    page = session.get(flow.sandbox.url + "/oauth/authorize", params=params, timeout=TIMEOUT)
    answer = session.post(urljoin(flow.sandbox.url, form_action(page.text)), data={"confirm": "yes"},
                          allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_login_without_the_csrf_token_is_refused(flow):
    answer = requests.post(flow.sandbox.url + "/login", data={"username": flow.username, "password": PASSWORD},
                           allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 400


def test_a_wrong_password_shows_the_form_again(flow):
    session = requests.Session()
    page = session.get(flow.sandbox.url + "/login", timeout=TIMEOUT)
    answer = session.post(flow.sandbox.url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "username": flow.username, "password": "wrong", "csrf_token": hidden_field(page.text, "csrf_token")})
    assert answer.status_code == 200
    assert "Invalid username or password." in answer.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_login_only_continues_to_local_paths(flow, target):
    session = requests.Session()
    page = session.get(flow.sandbox.url + "/login", params={"next": target}, timeout=TIMEOUT)
    answer = session.post(flow.sandbox.url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "username": flow.username, "password": PASSWORD, "csrf_token": hidden_field(page.text, "csrf_token"),
        "next": target})
    assert answer.status_code == 302
    assert urlsplit(urljoin(flow.sandbox.url, answer.headers["Location"])).netloc == urlsplit(flow.sandbox.url).netloc


def test_show_token_shows_the_code(flow):
    page = requests.get(flow.sandbox.url + "/oauth/show_token", params={"code": "abc123", "state": "s"},
                        timeout=TIMEOUT)
    assert page.status_code == 200
    assert "abc123" in page.text


def test_an_expired_token_is_401_and_refreshing_brings_access_back(flow):
    first = flow.exchange(flow.code()).json()
    assert flow.api_user(first["access_token"]).status_code == 200
    expire_token(flow.sandbox, first["access_token"])
    expired = flow.api_user(first["access_token"])
    assert expired.status_code == 401
    assert expired.json() == {"error": "You are unauthorized to make this request."}

    refreshed = flow.refresh(first["refresh_token"])
    assert refreshed.status_code == 200, refreshed.text
    second = refreshed.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] and second["refresh_token"] != first["refresh_token"]
    assert flow.api_user(second["access_token"]).status_code == 200

    assert flow.refresh(first["refresh_token"]).json()["error"] == "invalid_grant"
    third = flow.refresh(second["refresh_token"], method="post")
    assert third.status_code == 200, third.text
    assert third.json()["refresh_token"]


def test_a_refresh_token_belongs_to_its_client(flow):
    token = flow.exchange(flow.code()).json()
    stranger = flow.sandbox.add_client("Someone Else", [REDIRECT_URI])
    answer = requests.post(flow.sandbox.url + "/oauth/token", timeout=TIMEOUT,
                           data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
                           auth=(stranger["client_id"], stranger["client_secret"]))
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_two_refreshes_at_once_with_one_refresh_token_give_one_token(flow):
    refresh_token = flow.exchange(flow.code()).json()["refresh_token"]
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: flow.refresh(refresh_token), range(4)))
    assert sorted(answer.status_code for answer in answers) == [200, 400, 400, 400]


def revoke(flow, token: str, hint: str | None = None, auth=None) -> requests.Response:
    data = {"token": token, **({"token_type_hint": hint} if hint else {})}
    return requests.post(flow.sandbox.url + "/oauth/revoke", data=data, timeout=TIMEOUT,
                         auth=auth or (flow.client["client_id"], flow.client["client_secret"]))


@pytest.mark.parametrize("which, hint", [("access_token", None), ("access_token", "access_token"),
                                         ("refresh_token", None), ("refresh_token", "refresh_token"),
                                         ("refresh_token", "access_token")])
def test_revocation_ends_the_access_and_refresh_tokens(flow, which, hint):
    token = flow.exchange(flow.code()).json()
    assert flow.api_user(token["access_token"]).status_code == 200
    answer = revoke(flow, token[which], hint)
    assert answer.status_code == 200, answer.text
    refused = flow.api_user(token["access_token"])
    assert refused.status_code == 401
    assert refused.json() == {"error": "You are unauthorized to make this request."}
    assert flow.refresh(token["refresh_token"]).json()["error"] == "invalid_grant"


def test_revocation_by_client_secret_post_works_too(flow):
    token = flow.exchange(flow.code()).json()
    answer = requests.post(flow.sandbox.url + "/oauth/revoke", timeout=TIMEOUT, data={
        "token": token["access_token"], "client_id": flow.client["client_id"],
        "client_secret": flow.client["client_secret"]})
    assert answer.status_code == 200
    assert flow.api_user(token["access_token"]).status_code == 401


def test_revoking_a_refreshed_token_ends_the_whole_authorization(flow):
    first = flow.exchange(flow.code()).json()
    second = flow.refresh(first["refresh_token"]).json()
    assert flow.api_user(first["access_token"]).status_code == 200, "the old access token lives out its time"
    other_login = flow.exchange(flow.code()).json()
    assert revoke(flow, second["refresh_token"]).status_code == 200
    assert flow.api_user(first["access_token"]).status_code == 401
    assert flow.api_user(second["access_token"]).status_code == 401
    assert flow.api_user(other_login["access_token"]).status_code == 200, "another authorization is untouched"


def test_revocation_needs_the_client_the_token_was_issued_to(flow):
    token = flow.exchange(flow.code()).json()
    unauthenticated = requests.post(flow.sandbox.url + "/oauth/revoke", data={"token": token["access_token"]},
                                    timeout=TIMEOUT)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"] == "invalid_client"
    wrong_secret = revoke(flow, token["access_token"], auth=(flow.client["client_id"], "not-the-secret"))
    assert wrong_secret.status_code == 401
    stranger = flow.sandbox.add_client("Someone Else", [REDIRECT_URI])
    by_stranger = revoke(flow, token["access_token"], auth=(stranger["client_id"], stranger["client_secret"]))
    assert by_stranger.status_code == 400
    assert flow.api_user(token["access_token"]).status_code == 200


def test_revoking_an_unknown_token_is_200_as_rfc_7009_says(flow):
    assert revoke(flow, "no-such-token").status_code == 200
    assert revoke(flow, "x", hint="something_else").json()["error"] == "unsupported_token_type"


def test_show_token_shows_the_whole_redirect_url(flow):
    page = requests.get(flow.sandbox.url + "/oauth/show_token", params={"code": "abc123", "state": "s 1"},
                        timeout=TIMEOUT)
    shown = unescape(re.search(r'<code id="redirect-url">([^<]*)</code>', page.text).group(1))
    assert shown == flow.sandbox.url + "/oauth/show_token?code=abc123&state=s+1"
    assert query_of(shown) == {"code": "abc123", "state": "s 1"}


def authorize_params(flow, **extra) -> dict:
    return {"response_type": "code", "client_id": flow.client["client_id"], "redirect_uri": REDIRECT_URI,
            "scope": "basic", "state": "st", **extra}


def test_prompt_login_shows_the_login_form_even_to_someone_logged_in(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    plain = session.get(flow.sandbox.url + "/oauth/authorize", params=authorize_params(flow), timeout=TIMEOUT)
    assert "Authorize" in plain.text, "without prompt=login a logged-in person goes straight to consent"

    answer = session.get(flow.sandbox.url + "/oauth/authorize", params=authorize_params(flow, prompt="login"),
                         allow_redirects=False, timeout=TIMEOUT)
    assert answer.status_code == 302
    login_url = urljoin(flow.sandbox.url, answer.headers["Location"])
    assert urlsplit(login_url).path == "/login"
    page = session.get(login_url, timeout=TIMEOUT)
    assert "Username" in page.text and "Log in again" in page.text
    continue_to = hidden_field(page.text, "next")
    assert "prompt" not in query_of(continue_to) and query_of(continue_to)["client_id"] == flow.client["client_id"]

    other = unique("next-person")
    flow.sandbox.add_user(other, "other pw")
    logged_in = session.post(flow.sandbox.url + "/login", allow_redirects=False, timeout=TIMEOUT, data={
        "username": other, "password": "other pw", "csrf_token": hidden_field(page.text, "csrf_token"),
        "next": continue_to})
    assert logged_in.status_code == 302
    consent = session.get(urljoin(flow.sandbox.url, logged_in.headers["Location"]), timeout=TIMEOUT)
    assert consent.status_code == 200 and other in consent.text and flow.username not in consent.text
    decided = session.post(urljoin(flow.sandbox.url, form_action(consent.text)), allow_redirects=False,
                           timeout=TIMEOUT, data={"csrf_token": hidden_field(consent.text, "csrf_token"),
                                                  "confirm": "yes"})
    token = flow.exchange(query_of(decided.headers["Location"])["code"]).json()
    assert flow.api_user(token["access_token"]).json()["username"] == other


def test_prompt_login_among_other_prompt_values(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    answer = session.get(flow.sandbox.url + "/oauth/authorize", allow_redirects=False, timeout=TIMEOUT,
                         params=authorize_params(flow, prompt="consent login"))
    assert urlsplit(answer.headers["Location"]).path == "/login"
    other = session.get(flow.sandbox.url + "/oauth/authorize", params=authorize_params(flow, prompt="consent"),
                        timeout=TIMEOUT)
    assert "Authorize" in other.text


def test_the_logout_page_logs_out_with_a_csrf_protected_button(flow):
    session = requests.Session()
    session.cookies.update(logged_in_cookies(flow))
    assert flow.username in session.get(flow.sandbox.url + "/", timeout=TIMEOUT).text
    page = session.get(flow.sandbox.url + "/logout", params={"next": "/login?x=1"}, timeout=TIMEOUT)
    assert page.status_code == 200
    assert flow.username in page.text and "Log out" in page.text
    assert form_action(page.text) == "/logout"
    assert page.headers["X-Frame-Options"] == "DENY"

    forged = session.post(flow.sandbox.url + "/logout", data={"next": "/"}, allow_redirects=False, timeout=TIMEOUT)
    assert forged.status_code == 400
    assert flow.username in session.get(flow.sandbox.url + "/", timeout=TIMEOUT).text, "still logged in"

    answer = session.post(flow.sandbox.url + "/logout", allow_redirects=False, timeout=TIMEOUT, data={
        "csrf_token": hidden_field(page.text, "csrf_token"), "next": hidden_field(page.text, "next")})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login?x=1"
    assert flow.username not in session.get(flow.sandbox.url + "/", timeout=TIMEOUT).text
    consent_or_login = session.get(flow.sandbox.url + "/oauth/authorize", params=authorize_params(flow),
                                   allow_redirects=False, timeout=TIMEOUT)
    assert urlsplit(consent_or_login.headers["Location"]).path == "/login"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", REDIRECT_URI])
def test_logout_only_continues_to_local_paths(flow, target):
    session = requests.Session()
    page = session.get(flow.sandbox.url + "/logout", params={"next": target}, timeout=TIMEOUT)
    assert hidden_field(page.text, "next") == "/"
    answer = session.post(flow.sandbox.url + "/logout", allow_redirects=False, timeout=TIMEOUT, data={
        "csrf_token": hidden_field(page.text, "csrf_token"), "next": target})
    assert answer.headers["Location"] == "/"


def test_the_login_page_names_an_icon_that_is_served(sandbox):
    page = requests.get(urljoin(sandbox.url, "/login"), timeout=TIMEOUT)
    (icon,) = re.findall(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page.text)
    answer = requests.get(urljoin(sandbox.url, icon), timeout=TIMEOUT)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("image/svg+xml") and answer.content.startswith(b"<svg")
