"""Every way repovizz2 can fail, as the user sees it."""
from __future__ import annotations

import time

import pytest
import requests

from portal import create_app
from portal.rules.errors import Repovizz2Error, UnreadableFile
from tests.portal.fakes import CLIENT, MadeFile
from tests.portal.samples import GOOD_FILES, REPOVIZZ2, doc_file, files


@pytest.mark.parametrize(("fault", "status", "message"), [
    ({"status": 403, "error": "Method not allowed."}, 403, "That datapack belongs to someone else"),
    ({"status": 404, "error": "Datapack not found"}, 404, "Not found in repovizz2"),
    ({"status": 500, "body": "<html>oops</html>"}, 502, "repovizz2 had an internal error"),
    ({"status": 503, "error": "maintenance"}, 502, "maintenance"),
    ({"status": "unreachable"}, 503, "repovizz2 cannot be reached"),
    ({"status": "timeout"}, 504, "repovizz2 did not answer in time"),
])
def test_datapack_page_errors(client, auth, repovizz2, datapack_id, fault, status, message):
    auth.login()
    repovizz2.fail("datapack", **fault)
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == status
    assert message in page.get_data(as_text=True)


@pytest.mark.parametrize("broken", ["cut", "bad-gzip", "redirect-loop"])
def test_an_answer_that_cannot_be_read_is_a_502_not_a_500(client, auth, repovizz2, datapack_id, broken):
    auth.login()
    repovizz2.fail("datapack", broken)
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 502
    assert "repovizz2 had an internal error" in page.get_data(as_text=True)


def test_an_answer_too_large_to_be_a_datapack_is_repovizz2s_fault(client, auth, repovizz2, datapack_id):
    auth.login()
    repovizz2.fail("datapack", 200, body=MadeFile(8 * 1024 * 1024, byte=b"<"))
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 502
    text = page.get_data(as_text=True)
    assert f"repovizz2 answered /api/v1.0/datapacks/{datapack_id} with something that is not JSON" in text
    assert len(text) < 20_000  # none of it shown


@pytest.mark.parametrize("status", [200, 500])
def test_an_answer_past_the_bound_is_left_unread_and_is_repovizz2s_fault(client, auth, repovizz2, datapack_id, status):
    from portal.services.repovizz2_client import MAX_ANSWER_BYTES

    auth.login()
    huge = MadeFile(MAX_ANSWER_BYTES + 10 * 1024 * 1024, byte=b" ")
    repovizz2.fail("datapack", status, body=huge)
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 502
    text = page.get_data(as_text=True)
    assert f"repovizz2 answered /api/v1.0/datapacks/{datapack_id} with more than 32 MB" in text
    (reader,) = huge.readers
    assert MAX_ANSWER_BYTES < reader.given <= MAX_ANSWER_BYTES + 1024 * 1024


def test_an_error_answer_past_the_bound_to_a_download_is_left_unread(client, auth, repovizz2, datapack_id):
    from portal.services.repovizz2_client import MAX_ANSWER_BYTES

    auth.login()
    huge = MadeFile(MAX_ANSWER_BYTES + 10 * 1024 * 1024, byte=b" ")
    repovizz2.fail("download", 500, body=huge)
    page = client.get(f"/datapacks/{datapack_id}/content/{'a' * 40}")
    assert page.status_code == 502
    assert "with more than 32 MB" in page.get_data(as_text=True)
    (reader,) = huge.readers
    assert MAX_ANSWER_BYTES < reader.given <= MAX_ANSWER_BYTES + 1024 * 1024


def test_a_token_renewal_answer_past_the_bound_is_left_unread(client, auth, repovizz2):
    from portal.services.repovizz2_client import MAX_ANSWER_BYTES

    auth.login(expires_in=-10)
    huge = MadeFile(MAX_ANSWER_BYTES + 10 * 1024 * 1024, byte=b"{")
    repovizz2.fail("token", 200, body=huge)
    page = client.get("/")
    assert page.status_code == 502
    assert "with more than 32 MB" in page.get_data(as_text=True)
    (reader,) = huge.readers
    assert MAX_ANSWER_BYTES < reader.given <= MAX_ANSWER_BYTES + 1024 * 1024
    assert [name for name, _, _ in repovizz2.log] == ["token"]  # nothing asked with a token never received


def test_rejected_document_shows_repovizz2s_message(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("create", 422, error="children[0]: 'link' is required")

    page = client.post("/upload", data={"document": doc_file(), "files": files(*GOOD_FILES)},
                       content_type="multipart/form-data")
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "repovizz2 refused the datapack" in text and "children[0]: &#39;link&#39; is required" in text
    assert repovizz2.datapacks == {} and repovizz2.uploads == []


def test_expired_token_is_refreshed_before_the_call(client, auth, repovizz2):
    auth.login(expires_in=-10)
    repovizz2.expire("access-1")
    page = client.get("/")
    assert page.status_code == 200
    assert [name for name, _, _ in repovizz2.log] == ["token", "user"]
    assert repovizz2.tokens_sent_to("user") == ["Bearer access-2"]
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"
        assert session["token"]["refresh_token"] == "refresh-2"


def test_a_renewed_token_is_stored_before_the_request_ends(client, auth, repovizz2):
    """A parallel request must find the new token while this one (a long upload, say) still runs."""
    auth.login(expires_in=-10)
    stored_meanwhile = []

    def look_at_the_store(request):
        with client.session_transaction() as session:
            stored_meanwhile.append(session["token"]["refresh_token"])

    repovizz2.during["user"] = look_at_the_store
    assert client.get("/").status_code == 200
    assert stored_meanwhile == ["refresh-2"]


def test_refused_refresh_sends_the_user_through_login_and_back(client, auth, repovizz2):
    auth.login(expires_in=-10)
    repovizz2.revoke("refresh-1")  # the login ended at repovizz2: its refresh token is refused
    page = client.get("/datapacks/d-1")
    assert page.status_code == 302
    assert [name for name, _, _ in repovizz2.log] == ["token"]
    assert page.headers["Location"].endswith("/auth/login?next=/datapacks/d-1")
    with client.session_transaction() as session:
        assert "token" not in session


def test_401_is_answered_by_a_refresh_and_one_retry(client, auth, repovizz2, datapack_id):
    auth.login()
    repovizz2.expire("access-1")  # repovizz2 ended it before the time the portal was told
    page = client.get(f"/datapacks/{datapack_id}")
    assert page.status_code == 200
    assert "<h1>MYO</h1>" in page.get_data(as_text=True)
    assert repovizz2.tokens_sent_to("datapack") == ["Bearer access-1", "Bearer access-2"]
    assert len(repovizz2.calls_to("token")) == 1
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"


def test_401_after_a_refresh_means_log_in_again(client, auth, repovizz2):
    auth.login(refresh_token=None)
    repovizz2.revoke("access-1")
    page = client.get("/datapacks/d-1")
    assert page.status_code == 302
    assert "/auth/login?next=/datapacks/d-1" in page.headers["Location"]
    with client.session_transaction() as session:  # the login forgot the token repovizz2 refused
        assert "token" not in session and "user" not in session
    assert "Log in" in client.get("/").get_data(as_text=True)


def test_a_scripts_refused_token_leaves_the_browser_login_alone(client, auth, repovizz2):
    auth.login()
    answer = client.post("/api/datapacks/d-1/pending", json={"files": []},
                         headers={"Authorization": "Bearer someone-elses"})
    assert answer.status_code == 401
    assert repovizz2.tokens_sent_to("user") == ["Bearer someone-elses"]
    assert [name for name, _, _ in repovizz2.log] == ["user"]
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


def test_repovizz2_down_when_the_user_arrives(client, auth, repovizz2):
    auth.login()
    repovizz2.fail("user", "unreachable")
    page = client.get("/")
    assert page.status_code == 503
    assert "repovizz2 cannot be reached" in page.get_data(as_text=True)


def test_parallel_refresh_adopts_the_token_another_request_renewed(client, auth, repovizz2):
    """Two uploads renew one refresh token at once: the one repovizz2 refuses takes the other's token."""
    auth.login(expires_in=-10)
    repovizz2.expire("access-1")

    def renewed_elsewhere_first(request):
        """The other request's renewal reaches repovizz2 first and is stored; this one's is then refused."""
        del repovizz2.during["token"]
        renewed = requests.post(f"{REPOVIZZ2}/oauth/token", auth=CLIENT,
                                data={"grant_type": "refresh_token", "refresh_token": "refresh-1"}).json()
        with client.session_transaction() as session:
            session["token"] = {**renewed, "expires_at": int(time.time()) + renewed["expires_in"]}

    repovizz2.during["token"] = renewed_elsewhere_first
    page = client.get("/")
    assert page.status_code == 200
    assert [name for name, _, _ in repovizz2.log] == ["token", "token", "user"]
    assert repovizz2.tokens_sent_to("user") == ["Bearer access-2"]
    with client.session_transaction() as session:
        assert session["token"]["access_token"] == "access-2"


def _upload_form():
    return {"document": doc_file(), "files": files(*GOOD_FILES)}


def test_401_on_a_file_from_the_form_is_renewed_and_the_file_sent_again(client, auth, repovizz2):
    """repovizz2 may end a token between the portal's check and the file's arrival: renew, resend."""
    fake = repovizz2
    fake.fail("upload", 401, only="video.mp4", times=1)
    auth.login()
    page = client.post("/upload", data=_upload_form(), content_type="multipart/form-data")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "All 2 files were uploaded" in page.get_data(as_text=True)
    assert fake.uploads.count("video.mp4") == 2
    assert len(fake.calls_to("token")) == 1
    assert fake.tokens_sent_to("upload")[-1] == "Bearer access-2"
    assert sorted(fake.files.values()) == [b"[1, 2, 3]", b"v" * 1000]


def test_login_refused_mid_upload_goes_through_login_back_to_the_datapack(client, auth, repovizz2):
    fake = repovizz2
    fake.fail("upload", 401, only="emg 2.json")
    auth.login(refresh_token=None)
    page = client.post("/upload", data=_upload_form(), content_type="multipart/form-data")
    (datapack_id,) = fake.datapacks
    assert page.status_code == 302
    assert page.headers["Location"].endswith(f"/auth/login?next=/datapacks/{datapack_id}")


def test_401_on_a_streamed_put_cannot_be_resent_and_says_so(client, auth, repovizz2, datapack_id):
    auth.login()
    repovizz2.expire("access-1")  # repovizz2 ends it after the portal's last look
    answer = client.put(f"/datapacks/{datapack_id}/assets/gyro.json", data=b"x")
    assert answer.status_code == 401
    assert answer.json["login"] == f"/auth/login?next=/datapacks/{datapack_id}"
    assert repovizz2.uploads == ["gyro.json"] and repovizz2.calls_to("token") == []


@pytest.mark.parametrize(("answer", "message"), [
    ([], "in a shape the portal does not know"),
    ({"id": "d-1"}, "in a shape the portal does not know"),
    ({"id": "d-1", "structure": "text"}, "not an object"),
    ("just text", "in a shape the portal does not know"),
])
def test_an_answer_of_an_unknown_shape_is_repovizz2s_fault_not_a_500(client, auth, repovizz2, answer, message):
    auth.login()
    repovizz2.fail("datapack", 200, json_body=answer)
    page = client.get("/datapacks/d-1")
    assert page.status_code == 502
    assert message in page.get_data(as_text=True)
