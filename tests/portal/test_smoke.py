from tests.portal.samples import REPOVIZZ2


def test_welcome_page_when_logged_out(client):
    page = client.get("/")
    assert page.status_code == 200
    assert b"Log in with repovizz2" in page.data
    # A CSRF token lives in the session: a visitor's page carries none, so that it stores nothing.
    assert b'<meta name="csrf-token"' not in page.data
    assert "Set-Cookie" not in page.headers


def test_pages_of_a_login_carry_the_csrf_token(client, auth, repovizz2):
    auth.login()
    assert b'<meta name="csrf-token" content="' in client.get("/").data


def test_home_lists_datapacks(client, auth, repovizz2):
    auth.login()
    repovizz2.store("d-1", "MYO", {"info": {}, "children": [
        {"class": "data", "name": "a", "text": "", "link": "a.json"},
        {"class": "data", "name": "b", "text": "", "link": "repovizz:" + "a" * 40}]})
    page = client.get("/")
    assert page.status_code == 200, page.data
    assert b"MYO" in page.data and b"1 file pending" in page.data
    assert [request.url for request in repovizz2.calls_to("datapack")] == [f"{REPOVIZZ2}/api/v1.0/datapacks/d-1"]


def test_home_lists_many_datapacks_in_repovizz2s_order(client, auth, repovizz2):
    auth.login()
    order = [7, 2, 11, 0, 5, 9, 1, 3, 10, 6, 4, 8]  # repovizz2 never says by what it orders them
    for i in order:
        repovizz2.store(f"d-{i}", f"pack {i:02d}", {"info": {}, "children": []})
    page = client.get("/").get_data(as_text=True)
    positions = [page.index(f"pack {i:02d}") for i in order]
    assert positions == sorted(positions)  # as repovizz2 lists them
