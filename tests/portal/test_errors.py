"""Every way repovizz2 can fail, as the user sees it."""
from __future__ import annotations

import json
import time

import pytest
import requests
import responses

from portal import create_app
from portal.rules.errors import Repovizz2Error, UnreadableFile
from tests.portal.samples import GOOD_FILES, REPOVIZZ2, USER, doc_file, files

USER_URL = f"{REPOVIZZ2}/api/v1.0/user"
DATAPACK_URL = f"{REPOVIZZ2}/api/v1.0/datapacks/d-1"
TOKEN_URL = f"{REPOVIZZ2}/oauth/token"


@pytest.mark.parametrize(("answer", "status", "message"), [
    ({"status": 403, "json": {"error": "Method not allowed."}}, 403, "That datapack belongs to someone else"),
    ({"status": 404, "json": {"error": "Datapack not found"}}, 404, "Not found in repovizz2"),
    ({"status": 500, "body": "<html>oops</html>"}, 502, "repovizz2 had an internal error"),
    ({"status": 503, "json": {"error": "maintenance"}}, 502, "maintenance"),
    ({"body": requests.ConnectionError("refused")}, 503, "repovizz2 cannot be reached"),
    ({"body": requests.ReadTimeout("slow")}, 504, "repovizz2 did not answer in time"),
])
def test_datapack_page_errors(client, auth, api, answer, status, message):
    auth.login()
    api.get(DATAPACK_URL, **answer)
    page = client.get("/datapacks/d-1")
    assert page.status_code == status
    assert message in page.get_data(as_text=True)


@pytest.mark.parametrize("broken", [requests.exceptions.ChunkedEncodingError("connection broken mid-answer"),
                                    requests.exceptions.ContentDecodingError("bad gzip"),
                                    requests.exceptions.TooManyRedirects("loop")])
def test_an_answer_that_cannot_be_read_is_a_502_not_a_500(client, auth, api, broken):
    auth.login()
    api.get(DATAPACK_URL, body=broken)
    page = client.get("/datapacks/d-1")
    assert page.status_code == 502
    assert "repovizz2 had an internal error" in page.get_data(as_text=True)


def test_rejected_document_shows_repovizz2s_message(client, auth, api):
    auth.login()
    api.get(USER_URL, json=USER)
    api.post(f"{REPOVIZZ2}/api/v1.0/datapacks", status=422, json={"error": "children[0]: 'link' is required"})

    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "repovizz2 refused the datapack" in text and "children[0]: &#39;link&#39; is required" in text


def test_expired_token_is_refreshed_before_the_call(client, auth, api):
    auth.login(expires_in=-10)
    api.post(TOKEN_URL, json={"access_token": "access-2", "token_type": "Bearer", "expires_in": 3600,
                              "refresh_token": "refresh-2"})
    api.get(USER_URL, json=USER, match=[responses.matchers.header_matcher({"Authorization": "Bearer access-2"})])
    page = client.get("/")
    assert page.status_code == 200
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"
        assert session["token"]["refresh_token"] == "refresh-2"


def test_a_renewed_token_is_stored_before_the_request_ends(client, auth, api):
    """A parallel request must find the new token while this one (a long upload, say) still runs."""
    auth.login(expires_in=-10)
    api.post(TOKEN_URL, json={"access_token": "access-2", "token_type": "Bearer", "expires_in": 3600,
                              "refresh_token": "refresh-2"})
    stored_meanwhile = []

    def user(request):
        with client.session_transaction() as session:
            stored_meanwhile.append(session["token"]["refresh_token"])
        return 200, {}, json.dumps(USER)

    api.add_callback(responses.GET, USER_URL, callback=user)
    assert client.get("/").status_code == 200
    assert stored_meanwhile == ["refresh-2"]


def test_refused_refresh_sends_the_user_through_login_and_back(client, auth, api):
    auth.login(expires_in=-10)
    api.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
    page = client.get("/datapacks/d-1")
    assert page.status_code == 302
    assert page.headers["Location"].endswith("/auth/login?next=/datapacks/d-1")
    with client.session_transaction() as session:
        assert "token" not in session


def test_401_is_answered_by_a_refresh_and_one_retry(client, auth, api):
    auth.login()
    api.get(DATAPACK_URL, status=401, json={"error": "invalid token"},
            match=[responses.matchers.header_matcher({"Authorization": "Bearer access-1"})])
    api.post(TOKEN_URL, json={"access_token": "access-2", "token_type": "Bearer", "expires_in": 3600})
    api.get(DATAPACK_URL, json={"id": "d-1", "name": "MYO", "owner": "u-1", "folder": None,
                                "group_edit_permissions": [], "structure": {"info": {}, "children": []}},
            match=[responses.matchers.header_matcher({"Authorization": "Bearer access-2"})])
    page = client.get("/datapacks/d-1")
    assert page.status_code == 200
    assert "MYO" in page.get_data(as_text=True)


def test_401_after_a_refresh_means_log_in_again(client, auth, api):
    auth.login(refresh_token=None)
    api.get(DATAPACK_URL, status=401, json={"error": "invalid token"})
    page = client.get("/datapacks/d-1")
    assert page.status_code == 302
    assert "/auth/login?next=/datapacks/d-1" in page.headers["Location"]
    with client.session_transaction() as session:  # the login forgot the token repovizz2 refused
        assert "token" not in session and "user" not in session
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_a_scripts_refused_token_leaves_the_browser_login_alone(client, auth, api):
    auth.login()
    api.get(USER_URL, status=401, json={"error": "invalid_token"},
            match=[responses.matchers.header_matcher({"Authorization": "Bearer someone-elses"})])
    answer = client.post("/api/datapacks/d-1/pending", json={"files": []},
                         headers={"Authorization": "Bearer someone-elses"})
    assert answer.status_code == 401
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-1"


def test_a_file_that_cannot_be_read_is_not_called_a_repovizz2_failure(app, tmp_path):
    # An app of its own: the shared one takes no new routes once it has served a request.
    config = {key: app.config[key] for key in ("TESTING", "SECRET_KEY", "REPOVIZZ2_URL", "CLIENT_ID", "CLIENT_SECRET",
                                               "SERVER_NAME", "WTF_CSRF_ENABLED")}
    fresh = create_app({**config, "SESSION_DIR": str(tmp_path)})

    @fresh.route("/test/unreadable")
    def unreadable():
        raise UnreadableFile("the file for 'a.wav' could not be read to the end (disk error); it was not stored",
                             datapack_id="d-1", link="a.wav")

    assert not issubclass(UnreadableFile, Repovizz2Error)
    client = fresh.test_client()
    page = client.get("/test/unreadable")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "A file could not be read" in text and "could not be read to the end (disk error)" in text
    problem = text.split('<section class="problems"', 1)[1].split("</section>", 1)[0]
    assert "Nothing of that file was stored." in problem and "repovizz2" not in problem
    answer = client.get("/test/unreadable", headers={"Accept": "application/json"})
    assert answer.status_code == 422
    assert answer.json == {"error": "the file for 'a.wav' could not be read to the end (disk error); it was not stored",
                           "title": "A file could not be read", "datapack_id": "d-1"}


def test_repovizz2_down_when_the_user_arrives(client, auth, api):
    auth.login()
    api.get(USER_URL, body=requests.ConnectionError("refused"))
    page = client.get("/")
    assert page.status_code == 503
    assert "repovizz2 cannot be reached" in page.get_data(as_text=True)


def test_parallel_refresh_adopts_the_token_another_request_renewed(client, auth, api):
    """Two uploads renew one refresh token at once: the one repovizz2 refuses takes the other's token."""
    auth.login(expires_in=-10)

    def refused_but_renewed_elsewhere(request):
        with client.session_transaction() as session:
            session["token"] = {"access_token": "access-2", "token_type": "Bearer", "refresh_token": "refresh-2",
                                "expires_at": int(time.time()) + 3600}
        return 400, {}, '{"error": "invalid_grant"}'

    api.add_callback(responses.POST, TOKEN_URL, callback=refused_but_renewed_elsewhere)
    api.get(USER_URL, json=USER, match=[responses.matchers.header_matcher({"Authorization": "Bearer access-2"})])
    page = client.get("/")
    assert page.status_code == 200
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"


def _upload_form():
    return {"document": doc_file(), "files": files(*GOOD_FILES)}


def test_401_on_a_file_from_the_form_is_renewed_and_the_file_sent_again(client, auth, api, repovizz2):
    """repovizz2 may end a token between the portal's check and the file's arrival: renew, resend."""
    fake = repovizz2
    fake.fail_upload_once["video.mp4"] = 401
    auth.login()
    api.post(TOKEN_URL, json={"access_token": "access-2", "token_type": "Bearer", "expires_in": 3600,
                              "refresh_token": "refresh-2"})
    page = client.post("/upload", data=_upload_form(), content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "All 2 files were uploaded" in page.get_data(as_text=True)
    assert fake.uploads.count("video.mp4") == 2
    assert any(call.request.url == TOKEN_URL for call in api.calls)
    assert sorted(fake.files.values()) == [b"[1, 2, 3]", b"v" * 1000]


def test_login_refused_mid_upload_goes_through_login_back_to_the_datapack(client, auth, api, repovizz2):
    fake = repovizz2
    fake.fail_upload["emg 2.json"] = 401
    auth.login(refresh_token=None)
    page = client.post("/upload", data=_upload_form(), content_type="multipart/form-data")
    (datapack_id,) = fake.datapacks
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/auth/login?next=/datapacks/{datapack_id}")


def test_401_on_a_streamed_put_cannot_be_resent_and_says_so(client, auth, api):
    api.post(f"{REPOVIZZ2}/api/v1.0/datapacks/d-1/content/a.bin", status=401,
             json={"error": "invalid_token", "error_description": "the token expired"})
    auth.login()
    answer = client.put("/datapacks/d-1/assets/a.bin", data=b"x")
    assert answer.status_code == 401
    assert answer.json["login"] == "/auth/login?next=/datapacks/d-1"
    assert sum(1 for call in api.calls if "/content/" in call.request.url) == 1


@pytest.mark.parametrize("answer", [[], {"id": "d-1"}, {"id": "d-1", "structure": "text"}, "just text"])
def test_an_answer_of_an_unknown_shape_is_repovizz2s_fault_not_a_500(client, auth, api, answer):
    auth.login()
    api.get(DATAPACK_URL, json=answer)
    page = client.get("/datapacks/d-1")
    assert page.status_code == 502
    assert "in a shape the portal does not know" in page.get_data(as_text=True) or \
        "not an object" in page.get_data(as_text=True)
