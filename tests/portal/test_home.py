"""The home page at scale: summaries fetched at once by a bounded pool of threads that run without
Flask's request context, a page at a time, and a broken datapack listed as unreadable."""
from __future__ import annotations

import re
import threading

import flask
import pytest

from portal import create_app
from portal.services.repovizz2_client import Repovizz2Client
from portal.services.login import WorkerClients
from portal.services import datapack_summaries
from tests.portal.samples import REPOVIZZ2, USER, nested_containers


def structure_with(pending: int = 0) -> dict:
    """A document with `pending` files still to upload and one uploaded."""
    nodes = [{"class": "data", "name": f"f{i}", "text": "", "link": f"f{i}.bin"} for i in range(pending)]
    nodes.append({"class": "data", "name": "done", "text": "", "link": "repovizz:" + "a" * 40})
    return {"info": {}, "children": nodes}


def hold(repovizz2, ids, names=None, pending=None):
    """The user's datapacks in the in-memory repovizz2, listed in the order of `ids`."""
    for datapack_id in ids:
        name = (names or {}).get(datapack_id, f"pack {datapack_id}")
        repovizz2.store(datapack_id, name, structure_with((pending or {}).get(datapack_id, 0)))
    return repovizz2


def asked(repovizz2) -> list[str]:
    """The datapacks read from repovizz2, in the order the reads arrived."""
    return [request.url.rsplit("/", 1)[-1] for request in repovizz2.calls_to("datapack")]


def names_in(page) -> list[str]:
    return re.findall(r">pack ([^<]+)</a>", page.get_data(as_text=True))


# -- concurrency ----------------------------------------------------------------------------------

def test_every_summary_is_fetched_once_and_listed_in_repovizz2s_order(app, client, auth, repovizz2):
    app.config["HOME_FETCHES"] = 4
    ids = [f"d{i:02d}" for i in range(12)]
    hold(repovizz2, ids)
    auth.login()
    page = client.get("/")
    assert page.status_code == 200
    assert sorted(asked(repovizz2)) == sorted(ids)
    assert names_in(page) == ids
    assert "12 datapacks,\n  in the order repovizz2 lists them" in page.get_data(as_text=True)


def test_summaries_are_fetched_at_once_by_a_bounded_pool_without_the_request_context(app, client, auth, repovizz2):
    """The first four calls meet at a barrier: they can only pass it if four run at the same time."""
    app.config["HOME_FETCHES"] = 4
    ids = [f"d{i:02d}" for i in range(20)]
    hold(repovizz2, ids)
    barrier = threading.Barrier(4, timeout=30)
    met, request_context = [], []

    def meet(request):
        request_context.append(flask.has_request_context())
        if request.url.rsplit("/", 1)[-1] in ids[:4]:  # the first four listed go first
            met.append(barrier.wait())

    repovizz2.during["datapack"] = meet
    auth.login()
    page = client.get("/")
    assert page.status_code == 200
    assert sorted(met) == [0, 1, 2, 3]  # the barrier was passed, not broken
    assert repovizz2.most_at_once == 4
    threads = {thread for name, _, thread in repovizz2.log if name == "datapack"}
    assert len(threads) == 4 and threading.get_ident() not in threads
    assert request_context == [False] * 20
    assert repovizz2.tokens_sent_to("datapack") == ["Bearer access-1"] * 20
    assert names_in(page) == ids


def test_a_worker_that_touched_the_session_would_raise(app, repovizz2):
    """What the pool runs has no request context: a worker reading `flask.session` gets a RuntimeError."""
    hold(repovizz2, ["a", "b", "c"])
    outcomes = []

    def touch_the_session(request):  # runs in the worker's thread, while its call is answered
        try:
            flask.session.get("token")
            outcomes.append("read the session")
        except RuntimeError:
            outcomes.append("no request context")

    repovizz2.during["datapack"] = touch_the_session
    clients = WorkerClients("access-1", REPOVIZZ2, (5, 5), app.extensions["repovizz2_adapter"],
                            app.extensions["repovizz2_environment"])
    with app.test_request_context("/"):
        flask.session["token"] = {"access_token": "access-1"}
        lines = datapack_summaries.fetch_summaries(["a", "b", "c"], clients, 3)
    assert outcomes == ["no request context"] * 3
    assert [line["id"] for line in lines] == ["a", "b", "c"]


def test_worker_clients_need_no_flask_context(app, repovizz2):
    """A worker's client sends the token it was given, from a plain thread, on the app's pooled adapter."""
    repovizz2.issue("access-9")
    hold(repovizz2, ["d-1"])
    clients = WorkerClients("access-9", REPOVIZZ2, (5, 5), app.extensions["repovizz2_adapter"],
                            app.extensions["repovizz2_environment"])
    answers = []
    thread = threading.Thread(target=lambda: answers.append(clients().datapack("d-1")))
    thread.start()
    thread.join()
    assert answers[0]["id"] == "d-1"
    assert repovizz2.tokens_sent_to("datapack") == ["Bearer access-9"]
    assert [thread for _, _, thread in repovizz2.log] == [thread.ident]
    first, second = clients(), clients()
    assert isinstance(first, Repovizz2Client) and first.http is not second.http  # one session per call
    assert first.http.get_adapter(REPOVIZZ2) is app.extensions["repovizz2_adapter"]


def test_the_connection_pool_holds_at_least_one_page_of_fetches(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "REPOVIZZ2_URL": REPOVIZZ2, "CLIENT_ID": "i",
                      "CLIENT_SECRET": "s", "SESSION_DIR": str(tmp_path), "HOME_FETCHES": 48})
    assert app.extensions["repovizz2_adapter"]._pool_maxsize >= 48


def test_a_token_about_to_expire_is_renewed_once_in_the_request_thread(client, auth, repovizz2):
    auth.login(expires_in=30)  # within the 60 s leeway
    hold(repovizz2, [f"d{i}" for i in range(6)])
    assert client.get("/").status_code == 200
    assert [thread for name, _, thread in repovizz2.log if name == "token"] == [threading.get_ident()]
    assert repovizz2.tokens_sent_to("datapack") == ["Bearer access-2"] * 6
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"


def test_a_401_to_a_worker_is_renewed_once_in_the_request_thread_and_asked_again(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0", "d1", "d2"])
    repovizz2.fail("datapack", 401, only="d1", times=1)  # the token ended early, for d1's read
    page = client.get("/")
    assert page.status_code == 200
    assert names_in(page) == ["d0", "d1", "d2"]
    assert [thread for name, _, thread in repovizz2.log if name == "token"] == [threading.get_ident()]
    assert sorted(asked(repovizz2)) == ["d0", "d1", "d1", "d2"]  # only d1 was asked again, with the new token
    tokens = repovizz2.tokens_sent_to("datapack")
    assert tokens.count("Bearer access-2") == 1 and tokens[-1] == "Bearer access-2" and asked(repovizz2)[-1] == "d1"
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"


def test_a_401_to_a_worker_without_a_refresh_token_means_log_in_again(client, auth, repovizz2):
    auth.login(refresh_token=None)
    hold(repovizz2, ["d0", "d1"]).fail("datapack", 401, only="d1")
    page = client.get("/")
    assert page.status_code == 302
    assert "/auth/login" in page.headers["Location"]
    assert repovizz2.calls_to("token") == []
    with client.session_transaction() as session:
        assert "token" not in session


# -- paging ---------------------------------------------------------------------------------------

@pytest.fixture
def many(app, client, auth, repovizz2):
    """A user with 12 datapacks d00 … d11 (as repovizz2 lists them), shown 5 at a time."""
    app.config["HOME_PAGE_SIZE"] = 5
    auth.login()
    return hold(repovizz2, [f"d{i:02d}" for i in range(12)])


def test_the_first_page_fetches_only_its_datapacks(client, many):
    page = client.get("/")
    assert names_in(page) == ["d00", "d01", "d02", "d03", "d04"]
    assert sorted(asked(many)) == ["d00", "d01", "d02", "d03", "d04"]
    text = page.get_data(as_text=True)
    assert "1–5 of 12,\n  in the order repovizz2 lists them" in text and "page 1 of 3" in text
    assert 'href="/?page=2#datapacks">Next 5' in text
    assert "Previous" not in text


def test_page_two_shows_the_next_ones_and_links_both_ways(client, many):
    page = client.get("/?page=2")
    assert names_in(page) == ["d05", "d06", "d07", "d08", "d09"]
    assert sorted(asked(many)) == ["d05", "d06", "d07", "d08", "d09"]
    text = page.get_data(as_text=True)
    assert "6–10 of 12" in text
    assert 'href="/?page=3#datapacks">Next 2' in text and 'href="/#datapacks">Previous' in text


def test_the_last_page_is_short_and_has_no_show_more(client, many):
    page = client.get("/?page=3")
    assert names_in(page) == ["d10", "d11"]
    text = page.get_data(as_text=True)
    assert "11–12 of 12" in text and "Next" not in text
    assert 'href="/?page=2#datapacks">Previous' in text


@pytest.mark.parametrize(("wanted", "location"), [("4", "/?page=3"), ("99", "/?page=3"), ("0", "/"), ("-2", "/")])
def test_a_page_out_of_range_goes_to_the_nearest_one(client, many, wanted, location):
    page = client.get(f"/?page={wanted}")
    assert page.status_code == 302
    assert page.headers["Location"].endswith(location)
    assert asked(many) == []


def test_a_page_that_is_not_a_number_is_the_first(client, many):
    assert names_in(client.get("/?page=x")) == ["d00", "d01", "d02", "d03", "d04"]


def test_no_datapacks_has_one_empty_page(client, auth, repovizz2):
    auth.login()
    assert "You have no datapacks yet" in client.get("/").get_data(as_text=True)
    page = client.get("/?page=2")
    assert page.status_code == 302 and page.headers["Location"].endswith("/")


def test_one_page_has_no_paging_links(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0", "d1"])
    text = client.get("/").get_data(as_text=True)
    assert "2 datapacks,\n  in the order repovizz2 lists them" in text and "Next" not in text and "page 1 of" not in text


# -- unreadable datapacks -------------------------------------------------------------------------

@pytest.mark.parametrize(("fault", "reason"), [
    ({"status": 200, "json_body": {"id": "d1", "name": "x", "structure": "text"}}, "not an object"),
    ({"status": 200, "json_body": {"id": "d1", "name": "x"}}, "in a shape the portal does not know"),
    ({"status": 200, "json_body": []}, "in a shape the portal does not know"),
    ({"status": 200, "body": "<html>not json</html>"}, "not JSON"),
    ({"status": 403, "error": "Method not allowed."}, "belongs to someone else (403)"),
    ({"status": 404, "error": "Datapack not found"}, "does not find it (404)"),
    ({"status": 500, "body": "<html>oops</html>"}, "failed to answer for it (500)"),
    ({"status": 503, "error": "maintenance"}, "failed to answer for it (503)"),
    ({"status": "unreachable"}, "could not connect to repovizz2"),
])
def test_a_broken_datapack_is_listed_as_unreadable_and_the_rest_shown(client, auth, repovizz2, fault, reason):
    auth.login()
    hold(repovizz2, ["d0", "d1", "d2"]).fail("datapack", **fault, only="d1")
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert names_in(page) == ["d0", "d2"]
    row = re.search(r'<tr class="unreadable">(.*?)</tr>', text, re.S).group(1)
    assert "<code>d1</code>" in row and "unreadable" in row and reason in row


def test_a_datapack_repovizz2_cannot_be_reached_for_is_unreadable(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0", "d1"]).fail("datapack", "unreachable", only="d1")
    page = client.get("/")
    assert page.status_code == 200
    assert names_in(page) == ["d0"]
    assert "could not connect to repovizz2" in page.get_data(as_text=True)


def test_a_document_the_summary_cannot_walk_is_unreadable(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0"]).store("d1", "pack d1", {"info": {}, "children": [nested_containers(3000)]})
    page = client.get("/")
    assert page.status_code == 200
    assert names_in(page) == ["d0"]
    assert "its document cannot be read (RecursionError)" in page.get_data(as_text=True)


def test_an_id_that_is_not_a_string_is_unreadable(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0"]).fail("user", 200, json_body={**USER, "datapacks": ["d0", 42, None]})
    page = client.get("/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert names_in(page) == ["d0"]
    assert text.count("not a datapack id") == 2 and "<code>42</code>" in text
    assert asked(repovizz2) == ["d0"]


@pytest.mark.parametrize("unlinkable", [".", ".."])
def test_an_id_that_cannot_be_part_of_an_address_is_unreadable_and_never_asked_for(client, auth, repovizz2, unlinkable):
    auth.login()
    hold(repovizz2, ["d0"]).fail("user", 200, json_body={**USER, "datapacks": [unlinkable, "d0"]})
    page = client.get("/")
    assert page.status_code == 200
    assert names_in(page) == ["d0"] and asked(repovizz2) == ["d0"]
    assert f"<code>{unlinkable}</code>" in page.get_data(as_text=True)
    assert "repovizz2 listed an id that cannot be part of an address" in page.get_data(as_text=True)


def test_a_long_reason_is_cut_short(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0"]).fail("datapack", 409, error="x" * 500)
    text = client.get("/").get_data(as_text=True)
    assert "x" * 119 + "…" in text and "x" * 121 not in text


def test_a_list_of_datapacks_of_an_odd_shape_is_repovizz2s_fault(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("user", 200, json_body={**USER, "datapacks": "d0,d1"})
    page = client.get("/")
    assert page.status_code == 502
    assert "the portal does not know" in page.get_data(as_text=True)
    assert asked(repovizz2) == []



# -- search by name ---------------------------------------------------------------------------------

@pytest.fixture
def named(app, client, auth, repovizz2):
    """30 datapacks as repovizz2 lists them, shown 5 at a time: "Session 0" … "Session 29", every
    third one also called "Knee" ("Knee session 0", "Knee session 3", …)."""
    app.config["HOME_PAGE_SIZE"] = 5
    app.config["HOME_FETCHES"] = 3
    auth.login()
    ids = [f"d{i:02d}" for i in range(30)]
    names = {datapack_id: ("Knee session " if i % 3 == 0 else "Session ") + str(i) for i, datapack_id in enumerate(ids)}
    return hold(repovizz2, ids, names=names)


def listed_names(page) -> list[str]:
    return re.findall(r'<td data-label="Name"><a href="[^"]+">([^<]+)</a>', page.get_data(as_text=True))


def test_a_search_looks_beyond_the_page_shown_a_page_of_matches_at_a_time(client, named):
    page = client.get("/?q=knee")
    assert listed_names(page) == [f"Knee session {i}" for i in (0, 3, 6, 9, 12)]
    # It looked at the datapacks in order until it had a page of matches, no further.
    assert sorted(asked(named)) == [f"d{i:02d}" for i in range(15)]
    text = page.get_data(as_text=True)
    assert "5 datapacks whose name contains “knee”" in text and "(not all of them yet)" in text
    assert 'href="/?q=knee&amp;from=13#datapacks">Search on from datapack 14' in text
    before = len(asked(named))
    more = client.get("/?q=knee&from=13")
    assert listed_names(more) == [f"Knee session {i}" for i in (15, 18, 21, 24, 27)]
    assert "Search on" not in more.get_data(as_text=True) or "from=28" in more.get_data(as_text=True)
    assert min(asked(named)[before:]) == "d13"


@pytest.mark.parametrize(("query", "expected"), [
    ("  SESSION   29 ", ["Session 29"]),
    ("Knee session 27", ["Knee session 27"]),
    ("nothing like it", []),
    ("<script>", []),
])
def test_search_matches_names_ignoring_case_and_spaces(client, named, query, expected):
    page = client.get("/", query_string={"q": query})
    assert page.status_code == 200
    assert listed_names(page) == expected
    if not expected:
        assert "No datapack whose name contains" in page.get_data(as_text=True)
    assert "<script>" not in page.get_data(as_text=True)


def test_a_search_bounds_how_many_it_looks_through_per_request(app, client, named):
    from portal.views.home import SEARCH_PAGES

    app.config["HOME_PAGE_SIZE"] = 2
    most = 2 * SEARCH_PAGES  # pages' worth of datapacks one request looks through
    assert most < 30  # fewer than the user has
    page = client.get("/?q=nothing")
    assert len(asked(named)) == most
    assert f'from={most}#datapacks">Search on from datapack {most + 1}' in page.get_data(as_text=True)


def test_each_row_says_its_files_and_its_state(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0", "d1"], pending={"d1": 3})
    text = client.get("/").get_data(as_text=True)
    assert "3 files pending" in text and "4 files</td>" in text and "1 file</td>" in text
    assert "in the order repovizz2 lists them" in text


def test_a_rows_size_is_shown_when_this_login_sent_its_files(client, auth, repovizz2):
    auth.login()
    hold(repovizz2, ["d0", "d1"], pending={"d1": 1})
    with client.session_transaction() as session:
        session["sent_files"] = {"d1": {"children[0]": ["f0", "f0.bin", 1500], "children[1]": ["done", "x", 500]}}
    text = client.get("/").get_data(as_text=True)
    rows = re.findall(r"<tr>.*?</tr>", text, re.S)[1:]
    assert "not known" in rows[0]
    assert "2.0 KB" in rows[1], rows[1]
