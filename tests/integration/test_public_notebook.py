"""The public notebook against `make demo`'s sandbox, call for call as its client `repovizz2.py` makes them.

The sandbox is set up by the demo's own functions (scripts/demo.py: the demo user, the notebook's
client with the redirect URI the public client hard-codes, the demo's serve options). The calls are
written here with `requests`, in the project's words: the authorization request with that redirect
URI and `scope=basic`, the browser's login and consent ending in a redirect to the client's one-shot
server on `http://localhost:50009`, the code exchange (client authentication in either of the ways
the OAuth library behind the client has used), then the notebook's cells: `GET /user`, create the
datapack with its document, list its content, post each file in a part named after its link, list
again, and the later cells' `datapacks[0]`.
"""
from __future__ import annotations

import json
import re
import secrets
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
import requests

from portal.rules.datapack_tree import walk_data_nodes
from sandbox.testing import LiveSandbox
from tests.live_portal import _hidden_fields

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "portal" / "example"
sys.path.insert(0, str(ROOT / "scripts"))
import demo  # noqa: E402

API = "/api/v1.0"
TIMEOUT = 10


@pytest.fixture(scope="module")
def demo_sandbox(tmp_path_factory):
    """A sandbox set up and started as `make demo` sets up and starts its own; and the notebook's client."""
    data_dir = tmp_path_factory.mktemp("demo-sandbox")
    clients = demo.set_up_sandbox(data_dir, "http://127.0.0.1:5000")
    with LiveSandbox(data_dir, serve_options=demo.sandbox_serve_options(demo.NOTEBOOK_ORIGINS)) as live:
        yield live, clients["notebook"]


def authorize_in_the_browser(repovizz_url: str, client_id: str) -> tuple[str, str]:
    """What the notebook's frame does: open the authorization URL, log in as the demo, authorize.
    Returns the state sent and where the sandbox sent the browser at the end (not followed)."""
    state = secrets.token_urlsafe(20)
    browser = requests.Session()
    page = browser.get(f"{repovizz_url}/oauth/authorize", timeout=TIMEOUT, params={
        "response_type": "code", "client_id": client_id, "redirect_uri": demo.NOTEBOOK_REDIRECT_URI,
        "scope": "basic", "state": state})
    assert 'name="password"' in page.text
    assert "demo / demo" in page.text  # the login page names the demo's login
    username, password = demo.DEMO_LOGIN
    page = browser.post(page.url, data={**_hidden_fields(page.text), "username": username, "password": password},
                        timeout=TIMEOUT)
    assert 'name="confirm"' in page.text, page.text
    action = re.search(r'<form[^>]*method="post"[^>]*action="([^"]*)"', page.text)
    target = urljoin(page.url, action.group(1).replace("&amp;", "&")) if action else page.url
    answer = browser.post(target, data={**_hidden_fields(page.text), "confirm": "yes"}, allow_redirects=False,
                          timeout=TIMEOUT)
    assert answer.status_code == 302, answer.text  # the authorization response redirects with Found
    return state, answer.headers["Location"]


def exchange_code(repovizz_url: str, client: dict, code: str, client_auth: str) -> dict:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": demo.NOTEBOOK_REDIRECT_URI}
    if client_auth == "basic":
        auth = (client["client_id"], client["client_secret"])
    else:
        auth = None
        data.update(client_id=client["client_id"], client_secret=client["client_secret"])
    answer = requests.post(f"{repovizz_url}/oauth/token", data=data, auth=auth, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    return answer.json()


@pytest.mark.parametrize("client_auth", ["basic", "post"])
def test_the_public_clients_login_and_upload_calls_work_with_the_demos_client(demo_sandbox, client_auth):
    sandbox, client = demo_sandbox
    assert client["redirect_uri"] == "http://localhost:50009"

    state, location = authorize_in_the_browser(sandbox.url, client["client_id"])
    # The one-shot server's address: the client rebuilds the URL from the request's Host and path.
    parts = urlsplit(location)
    assert (parts.scheme, parts.netloc, parts.path or "/") == ("http", "localhost:50009", "/")
    query = parse_qs(parts.query)
    assert query["state"] == [state]
    token = exchange_code(sandbox.url, client, query["code"][0], client_auth)
    assert token["token_type"].lower() == "bearer" and token["access_token"]

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token['access_token']}"
    myself = http.get(f"{sandbox.url}{API}/user", timeout=TIMEOUT).json()
    assert myself["username"] == "demo"

    document = json.loads((EXAMPLE / "datapack.json").read_text())
    name = f"{document['info']['name']} ({client_auth})"
    created = http.post(f"{sandbox.url}{API}/datapacks", timeout=TIMEOUT,
                        json={"structure": document, "name": name, "owner": myself["id"]})
    assert created.status_code == 200, created.text
    datapack_id = created.json()["item"]["id"]

    links = [node.link for node in walk_data_nodes(document)]
    listed = http.get(f"{sandbox.url}{API}/datapacks/{datapack_id}/content", timeout=TIMEOUT).json()
    assert sorted(listed) == sorted(links)
    for link in links:
        with open(EXAMPLE / link, "rb") as file:
            sent = http.post(f"{sandbox.url}{API}/datapacks/{datapack_id}/content/{quote(link, safe='')}",
                             files={link: file}, timeout=TIMEOUT)
        assert sent.status_code == 200, sent.text
        assert re.fullmatch(r"[0-9a-f]{40}", sent.json()["id"])
    listed = http.get(f"{sandbox.url}{API}/datapacks/{datapack_id}/content", timeout=TIMEOUT).json()
    assert len(listed) == len(links) and all(key.startswith("repovizz:") for key in listed)

    # The later cells act on the first datapack `GET /user` lists.
    datapacks = http.get(f"{sandbox.url}{API}/user", timeout=TIMEOUT).json()["datapacks"]
    assert datapack_id in datapacks
    first = http.get(f"{sandbox.url}{API}/datapacks/{datapacks[0]}", timeout=TIMEOUT)
    assert first.status_code == 200 and first.json()["id"] == datapacks[0]


def test_the_demo_registers_the_notebooks_client_once(demo_sandbox):
    sandbox, client = demo_sandbox
    again = demo.set_up_sandbox(Path(sandbox.data_dir), "http://127.0.0.1:5000")
    assert again["notebook"] == client

