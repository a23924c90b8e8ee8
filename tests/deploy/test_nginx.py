"""The portal as production runs it: gunicorn (gthread) behind Debian's nginx with docs/nginx-portal.conf.

nginx is started by the test on a loopback port, over https with a throwaway certificate, with the
documented site config; only the addresses, the certificate and the client timeouts (TIMEOUT seconds
instead of tens) are changed. The portal sits at /portal/ with PORTAL_BEHIND_PROXY=1.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import time

import pytest
import requests

from tests.live_nginx import SITE_CONFIG, Attacker, LiveNginx, answer_in_time, header_and_form_stallers, \
    junk_token_staller, nginx_binary
from tests.live_portal import GunicornPortal, free_port, log_in

pytestmark = pytest.mark.nginx

TIMEOUT = 4  # seconds, for client_header_timeout, client_body_timeout, send_timeout and keepalive_timeout
THREADS = 16  # gunicorn --threads, as docs/deploy.md runs it
BODY_LIMIT = int(re.search(r"limit_conn\s+portal_bodies\s+(\d+);", SITE_CONFIG.read_text()).group(1))
PAGE_BOUND = 1.0  # seconds: every page view of the user under attack
ATTACKERS_PER_KIND = 10
UPLOAD_MIB = 64


@pytest.fixture(scope="module")
def site(sandbox, tmp_path_factory):
    """nginx on https://127.0.0.1:<port>/portal/ in front of the portal under gunicorn."""
    assert nginx_binary(), "these tests need nginx: `make test-deps` installs Debian's"
    port = free_port()
    client = sandbox.add_client(f"nginx-{port}", [f"https://127.0.0.1:{port}/portal/auth/callback"])
    portal = GunicornPortal(sandbox, str(tmp_path_factory.mktemp("nginx-sessions")), workers=1, threads=THREADS,
                            client=client, env={"PORTAL_BEHIND_PROXY": "1"})
    try:
        nginx = LiveNginx(tmp_path_factory.mktemp("nginx"), port, portal.url.removeprefix("http://"), changes={
            "client_header_timeout 10s;": f"client_header_timeout {TIMEOUT}s;",
            "client_body_timeout   30s;": f"client_body_timeout {TIMEOUT}s;",
            "send_timeout          30s;": f"send_timeout {TIMEOUT}s;",
            "keepalive_timeout     30s;": f"keepalive_timeout {TIMEOUT}s;",
        })
    except BaseException:
        portal.stop()
        raise
    nginx.portal = portal
    yield nginx
    nginx.stop()
    portal.stop()


def browser(site) -> requests.Session:
    http = requests.Session()
    http.trust_env = False  # REQUESTS_CA_BUNDLE in the environment would win over `verify`
    http.verify = str(site.cert)
    return http


def logged_in(site, sandbox, name: str) -> requests.Session:
    sandbox.add_user(name, "pw")
    http = browser(site)
    log_in(http, site.url + "/portal", name, "pw", next_path="/portal/")
    page = http.get(site.url + "/portal/upload", timeout=10)
    http.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return http


def new_datapack(http: requests.Session, site, author: str, sizes: dict[str, int]) -> dict:
    document = {"info": {"name": f"through nginx {time.time_ns()}", "author": author, "description": "",
                         "keywords": []},
                "children": [{"class": "data", "name": link, "text": "", "link": link} for link in sizes]}
    answer = http.post(site.url + "/portal/api/datapacks", timeout=10,
                       json={"document": document, "files": [{"path": p, "size": s} for p, s in sizes.items()]})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_pages_and_login_at_the_sub_path(site, sandbox):
    anonymous = browser(site)
    page = anonymous.get(site.url + "/portal/", timeout=10)
    assert page.status_code == 200
    assert 'href="/portal/auth/login"' in page.text and 'href="/portal/static/portal.css"' in page.text
    assert anonymous.get(site.url + "/portal/static/portal.css", timeout=10).status_code == 200
    login = anonymous.get(site.url + "/portal/auth/login", allow_redirects=False, timeout=10)
    assert f"redirect_uri=https%3A%2F%2F127.0.0.1%3A{site.port}%2Fportal%2Fauth%2Fcallback" in login.headers["Location"]

    http = logged_in(site, sandbox, "nginx-ana")
    cookie = next(c for c in http.cookies if c.name == "portal_session")
    assert cookie.secure
    home = http.get(site.url + "/portal/", timeout=10)
    assert home.status_code == 200 and "nginx-ana" in home.text and 'action="/portal/auth/logout"' in home.text


@pytest.mark.parametrize("method, path", [("POST", "/portal/upload"), ("PUT", "/portal/datapacks/d-1/assets/a.bin"),
                                          ("POST", "/portal/api/datapacks")])
def test_a_body_with_no_login_and_no_token_is_refused_by_nginx(site, method, path):
    """nginx answers it itself (the portal's own 401 reads otherwise), so the body is never passed on
    and gunicorn's early close cannot turn into a 502."""
    answer = browser(site).request(method, site.url + path, data=b"x" * (4 * 1024 * 1024), timeout=10,
                                   headers={"Content-Type": "application/octet-stream"})
    assert answer.status_code == 401
    assert answer.text == "Log in with repovizz2 first (nothing you sent was kept): /portal/auth/login\n"
    assert answer.headers["Content-Type"].startswith("text/plain")


def test_a_junk_token_put_that_stalls_after_ten_bytes_is_answered_at_once(site):
    """nginx passes a body with a token on; the portal asks repovizz2 about the token before it reads
    the body, so the 401 comes within a second or two, not after the body timeout."""
    staller = answer_in_time(junk_token_staller(f"127.0.0.1:{site.port}", "/portal"), site.port, site.tls_context())
    assert staller.status == 401, staller.answer[:200]
    assert staller.answered - staller.opened < 2


def test_a_large_upload_streams_through_without_a_temp_file(site, sandbox):
    http = logged_in(site, sandbox, "nginx-bea")
    blob = os.urandom(UPLOAD_MIB * 1024 * 1024)
    created = new_datapack(http, site, "nginx-bea", {"big.bin": len(blob)})
    (upload,) = created["uploads"]

    seen_on_disk: list[str] = []
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen_on_disk.extend(site.body_temp_files())
            done.wait(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        sent = http.put(site.url + upload["url"], data=blob, timeout=120,
                        headers={"Content-Type": "application/octet-stream"})
    finally:
        done.set()
        watcher.join(5)
    assert sent.status_code == 200, sent.text
    assert seen_on_disk == []
    assert "buffered to a temporary file" not in site.error_log_text()

    token = sandbox.issue_token("nginx-bea")
    stored = requests.get(f"{sandbox.url}/api/v1.0/datapacks/{created['datapack_id']}/content/"
                          f"{sent.json()['ref'].removeprefix('repovizz:')}",
                          headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert hashlib.sha256(stored.content).digest() == hashlib.sha256(blob).digest()


def session_cookie(http: requests.Session) -> str:
    return f"portal_session={http.cookies['portal_session']}"


def attackers(site, sandbox) -> tuple[list[Attacker], dict, str]:
    """Ten of each: silent after part of the header, header dribbled a byte at a time, a logged-in form
    POST that announces 100000 bytes and stalls, and a logged-in user's file PUT stalled mid-file."""
    http = logged_in(site, sandbox, "nginx-mallory")
    cookie = session_cookie(http)
    token = sandbox.issue_token("nginx-mallory")
    http.headers["Authorization"] = f"Bearer {token}"
    size = 1024 * 1024
    created = new_datapack(http, site, "nginx-mallory", {f"f{i}.bin": size for i in range(ATTACKERS_PER_KIND)})

    host = f"127.0.0.1:{site.port}"
    crowd = []
    for upload in created["uploads"]:
        crowd.extend(header_and_form_stallers(host, "/portal", cookie))
        crowd.append(Attacker("file body", (
            f"PUT {upload['url']} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n\r\n"
        ).encode() + b"\0" * 65536))
    return crowd, created, token


@pytest.fixture(scope="module")
def attack(site, sandbox):
    """40 slow clients at once while a logged-in user keeps viewing the home page; returns what each saw."""
    user = logged_in(site, sandbox, "nginx-cleo")
    assert user.get(site.url + "/portal/", timeout=10).status_code == 200  # warm: pooled connections made
    crowd, datapack, token = attackers(site, sandbox)
    ready = threading.Barrier(len(crowd) + 1, timeout=20)
    started = time.monotonic()
    stop_at = started + TIMEOUT + 20  # a bound for every thread, far past nginx's timeouts
    threads = [threading.Thread(target=one.run, args=(site.port, site.tls_context(), ready, stop_at), daemon=True)
               for one in crowd]
    for thread in threads:
        thread.start()
    ready.wait()
    attack_began = time.monotonic()

    pages = []
    while len(pages) < 6:  # one after another: all within nginx's timeouts, while every staller still holds on
        began = time.monotonic()
        try:
            page = user.get(site.url + "/portal/", timeout=5)
            pages.append((time.monotonic() - began, page.status_code, "nginx-cleo" in page.text))
        except requests.Timeout:
            pages.append((time.monotonic() - began, None, False))
    measured_until = time.monotonic()
    # Still waiting on nginx when the last page came back: neither answered nor closed.
    open_while_measuring = {one.kind: sum(1 for a in crowd if a.kind == one.kind and not (
        a.answered and a.answered <= measured_until or a.closed and a.closed <= measured_until)) for one in crowd}

    for thread in threads:
        thread.join(max(0.0, stop_at - time.monotonic()) + 1)
    return {"pages": pages, "crowd": crowd, "attack_began": attack_began, "measured_until": measured_until,
            "open_while_measuring": open_while_measuring, "datapack": datapack, "token": token}


def test_pages_stay_fast_under_forty_slow_clients(attack):
    pages = attack["pages"]
    print("page seconds under attack:", [round(seconds, 3) for seconds, _, _ in pages],
          "open while measuring:", attack["open_while_measuring"])
    assert all(status == 200 and shows_user for _, status, shows_user in pages)
    assert max(seconds for seconds, _, _ in pages) < PAGE_BOUND
    # The attack was on for the whole measurement: the header stallers were all still connected, and
    # as many body stallers as nginx lets one address have were holding their bodies.
    assert attack["measured_until"] - attack["attack_began"] < TIMEOUT
    assert attack["open_while_measuring"]["silent"] == ATTACKERS_PER_KIND
    assert attack["open_while_measuring"]["dribble"] == ATTACKERS_PER_KIND
    body_stallers = attack["open_while_measuring"]["form body"] + attack["open_while_measuring"]["file body"]
    assert body_stallers >= BODY_LIMIT


def test_nginx_cuts_off_every_slow_client_after_its_timeout(attack, site):
    crowd = attack["crowd"]
    for one in crowd:
        assert one.closed is not None, f"{one.kind}: still open"
        lasted = (one.answered or one.closed) - one.opened
        if one.status == 429:  # over the limit of bodies in flight per address: refused at once
            assert one.kind in ("form body", "file body") and lasted < PAGE_BOUND
            continue
        assert TIMEOUT - 1 < lasted < TIMEOUT + 3, f"{one.kind}: closed after {lasted:.1f} s"
        assert one.answer == b"" or one.status == 408, f"{one.kind}: answered {one.answer[:40]!r}"
    refused = [one for one in crowd if one.status == 429]
    assert len(refused) == 2 * ATTACKERS_PER_KIND - BODY_LIMIT
    timed_out = [line for line in site.access_log_lines() if '" 408 ' in line]
    assert len(timed_out) >= len(crowd) - len(refused), "\n".join(site.access_log_lines()[-50:])


def test_files_stalled_mid_body_are_not_stored(attack, sandbox):
    datapack = attack["datapack"]
    listing = requests.get(f"{sandbox.url}/api/v1.0/datapacks/{datapack['datapack_id']}/content", timeout=10,
                           headers={"Authorization": f"Bearer {attack['token']}"})
    assert sorted(listing.json()) == sorted(upload["link"] for upload in datapack["uploads"])  # all still pending


def test_without_nginx_the_same_slow_clients_starve_gunicorn(site, sandbox):
    """The control: thirty of the same slow clients straight at gunicorn, and a page cannot get a thread."""
    portal = site.portal
    port = int(portal.url.rsplit(":", 1)[1])
    cookie = session_cookie(logged_in(site, sandbox, "nginx-mallory-direct"))
    crowd = [one for _ in range(ATTACKERS_PER_KIND)
             for one in header_and_form_stallers(f"127.0.0.1:{port}", "", cookie)]
    assert len(crowd) > THREADS
    ready = threading.Barrier(len(crowd) + 1, timeout=20)
    stop_at = time.monotonic() + 2 * PAGE_BOUND + 1.5
    threads = [threading.Thread(target=one.run, args=(port, None, ready, stop_at), daemon=True) for one in crowd]
    for thread in threads:
        thread.start()
    ready.wait()
    with pytest.raises(requests.Timeout):
        requests.get(portal.url + "/healthz", timeout=2 * PAGE_BOUND)
    for thread in threads:  # the slow clients hang up by themselves; gunicorn gets its threads back
        thread.join(max(0.0, stop_at - time.monotonic()) + 1)
    assert requests.get(portal.url + "/healthz", timeout=10).status_code == 200


# Last in the module: it spends this address's logins for a while.
def test_nginx_limits_how_many_logins_one_address_starts(site):
    """Each click on "Log in" starts an OAuth login: past a burst, one address gets 429 from nginx."""
    http = browser(site)
    statuses = [http.get(site.url + "/portal/auth/login?next=/portal/", allow_redirects=False, timeout=10).status_code
                for _ in range(100)]
    assert statuses[:10] == [302] * 10  # (other tests of this module log in from the same address)
    assert statuses.count(429) >= 30
    assert http.get(site.url + "/portal/", timeout=10).status_code == 200  # pages are not limited
