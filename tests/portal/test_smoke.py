from tests.portal.samples import REPOVIZZ2, USER


def test_welcome_page_when_logged_out(client):
    page = client.get("/")
    assert page.status_code == 200
    assert b"Log in with repovizz2" in page.data
    # A CSRF token lives in the session: a visitor's page carries none, so that it stores nothing.
    assert b'<meta name="csrf-token"' not in page.data
    assert "Set-Cookie" not in page.headers


def test_pages_of_a_login_carry_the_csrf_token(client, auth, api):
    auth.login()
    api.get(f"{REPOVIZZ2}/api/v1.0/user", json={**USER, "datapacks": []})
    assert b'<meta name="csrf-token" content="' in client.get("/").data


def test_home_lists_datapacks(client, auth, api):
    auth.login()
    api.get(f"{REPOVIZZ2}/api/v1.0/user", json={**USER, "datapacks": ["d-1"]})
    api.get(f"{REPOVIZZ2}/api/v1.0/datapacks/d-1", json={"id": "d-1", "name": "MYO", "owner": "u-1", "folder": None,
            "group_edit_permissions": [], "structure": {"info": {}, "children": [
                {"class": "data", "name": "a", "text": "", "link": "a.json"},
                {"class": "data", "name": "b", "text": "", "link": "repovizz:" + "a" * 40}]}})
    page = client.get("/")
    assert page.status_code == 200, page.data
    assert b"MYO" in page.data and b"1 file pending" in page.data


def test_home_lists_many_datapacks_in_repovizz2s_order(client, auth, api):
    auth.login()
    ids = [f"d-{i}" for i in range(12)]
    api.get(f"{REPOVIZZ2}/api/v1.0/user", json={**USER, "datapacks": ids})
    for i, datapack_id in enumerate(ids):
        api.get(f"{REPOVIZZ2}/api/v1.0/datapacks/{datapack_id}",
                json={"id": datapack_id, "name": f"pack {i:02d}", "owner": "u-1", "folder": None,
                      "group_edit_permissions": [], "structure": {"info": {}, "children": []}})
    page = client.get("/").get_data(as_text=True)
    positions = [page.index(f"pack {i:02d}") for i in range(12)]
    assert positions == sorted(positions)  # as repovizz2 lists them: it never says by what
