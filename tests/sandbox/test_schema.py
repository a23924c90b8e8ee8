"""The sandbox's own validation: the public schema's rules, no stricter, and no import of the portal."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sandbox.schema import document_problems
from sandbox.testing import PROJECT_ROOT

from .helpers import document, unique

A_UUID = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"


def test_no_sandbox_module_loads_the_portal():
    """In a fresh interpreter, importing the sandbox (server, CLI, test helper) loads nothing of `portal`."""
    script = (
        "import json, sys\n"
        "import sandbox, sandbox.cli, sandbox.testing, sandbox.schema\n"
        "sandbox.create_app\n"
        "print(json.dumps(sorted(name for name in sys.modules if name == 'portal' or name.startswith('portal.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_building_an_app_loads_no_portal_module_either(tmp_path):
    script = (
        "import json, sys\n"
        "from sandbox import create_app\n"
        f"create_app({{'DATA_DIR': {str(tmp_path)!r}}}).test_client().get('/healthz')\n"
        "print(json.dumps(sorted(name for name in sys.modules if name == 'portal' or name.startswith('portal.'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def nested(depth: int) -> dict:
    """A document whose one data node sits inside `depth` nested containers."""
    node = {"class": "data", "name": "deep", "text": "", "link": "deep.bin"}
    for level in range(depth):
        node = {"class": "container", "name": f"level {level}", "text": "", "children": [node]}
    return {"info": {"name": "deep", "author": "", "description": "", "keywords": []}, "children": [node]}


def with_node(**changes) -> dict:
    doc = document()
    doc["children"][0].update(changes)
    for key, value in changes.items():
        if value is ...:
            del doc["children"][0][key]
    return doc


def with_info(**changes) -> dict:
    doc = document()
    doc["info"].update(changes)
    return doc


UNUSUAL_BUT_VALID = {
    "mime-null": with_node(mime=None),
    "mime-number": with_node(mime=3),
    "mime-object": with_node(mime={"type": "video/mp4"}),
    "type-urn-uuid": with_node(type=f"urn:uuid:{A_UUID}"),
    "type-braced-uuid": with_node(type="{" + A_UUID + "}"),
    "id-with-text-around": with_node(id=f"node {A_UUID} (copy)"),
    "info-id-urn": with_info(id=f"urn:uuid:{A_UUID}"),
    "empty-info-name": with_info(name=""),
    "empty-strings-everywhere": with_info(author="", description=""),
    "no-keywords-at-all": with_info(keywords=[]),
    "60-nested-containers": nested(60),
    "250-nested-containers": nested(250),
    "extra-keys": {**document(), "extra": [1, 2], "children": [
        {"class": "data", "name": "x", "text": "", "link": "", "children": "ignored on a data node", "size": 1e300}]},
    "container-with-link-and-type": {**document(), "children": [
        {"class": "container", "name": "c", "text": "", "children": [], "link": 5, "type": "not a uuid"}]},
    "meta-deep-object": with_node(meta={"a": {"b": {"c": [1, None, True]}}}),
    "link-with-spaces-and-dots": with_node(link="../weird name .json"),
    "duplicate-links": {**document(), "children": [
        {"class": "data", "name": "a", "text": "", "link": "same.bin"},
        {"class": "data", "name": "b", "text": "", "link": "same.bin"}]},
    "lone-surrogate-text": with_node(text="\ud800"),
    "no-children-at-all": {**document(), "children": []},
}

VIOLATIONS = {
    "not-an-object": ([], "must be an object"),
    "no-info": ({"children": []}, "'info' is required"),
    "no-children": ({"info": document()["info"]}, "'children' is required"),
    "info-not-object": ({**document(), "info": "x"}, "info: must be an object"),
    "info-no-author": ({**document(), "info": {"name": "", "description": "", "keywords": []}},
                       "info: 'author' is required"),
    "info-name-number": (with_info(name=3), "info.name: must be a string"),
    "keywords-not-array": (with_info(keywords="MYO"), "info.keywords: must be an array"),
    "keywords-not-strings": (with_info(keywords=["a", 1]), "info.keywords[1]: must be a string"),
    "keywords-duplicated": (with_info(keywords=["a", "a"]), "info.keywords: the keywords must be unique"),
    "info-id-no-uuid": (with_info(id="pack-1"), "info.id: must be a string containing a UUID"),
    "children-not-array": ({**document(), "children": {}}, "children: must be an array of nodes"),
    "node-not-object": ({**document(), "children": ["x"]}, "children[0]: a node must be an object"),
    "no-class": (with_node(**{"class": ...}), "children[0]: 'class' is required"),
    "unknown-class": (with_node(**{"class": "folder"}), "children[0].class: must be 'container' or 'data'"),
    "class-substring": (with_node(**{"class": "metadata"}), "children[0].class: must be 'container' or 'data'"),
    "no-name": (with_node(name=...), "children[0]: 'name' is required"),
    "text-null": (with_node(text=None), "children[0].text: must be a string, not null"),
    "no-link": (with_node(link=...), "children[0]: 'link' is required"),
    "link-number": (with_node(link=7), "children[0].link: must be a string, not a number"),
    "type-no-uuid": (with_node(type="accelerometer"), "children[0].type: must be a string containing a UUID"),
    "type-uppercase-uuid": (with_node(type=A_UUID.upper()), "children[0].type: must be a string containing a UUID"),
    "id-number": (with_node(id=12), "children[0].id: must be a string containing a UUID"),
    "meta-string": (with_node(meta="video/mp4"), "children[0].meta: must be an object, not a string"),
    "container-without-children": ({**document(), "children": [{"class": "container", "name": "c", "text": ""}]},
                                   "children[0]: 'children' is required"),
    "deep-violation": (nested(70), None),
}
VIOLATIONS["deep-violation"][0]["children"][0]["children"][0]["children"][0].pop("text")


@pytest.mark.parametrize("doc", UNUSUAL_BUT_VALID.values(), ids=UNUSUAL_BUT_VALID.keys())
def test_the_rules_accept_what_the_public_schema_accepts(doc):
    assert document_problems(doc) == []


@pytest.mark.parametrize("doc, message", VIOLATIONS.values(), ids=VIOLATIONS.keys())
def test_the_rules_refuse_what_the_public_schema_refuses(doc, message):
    problems = document_problems(doc)
    assert problems
    if message:
        assert any(message in problem for problem in problems), problems


def test_a_deep_problem_names_its_place():
    assert document_problems(VIOLATIONS["deep-violation"][0]) == [
        "children[0].children[0].children[0]: 'text' is required"]


def test_a_very_deep_tree_is_walked_without_recursion():
    assert document_problems(nested(20_000)) == []


LIVE_ACCEPTED = ["mime-null", "mime-number", "type-urn-uuid", "empty-info-name", "60-nested-containers",
                 "250-nested-containers", "id-with-text-around", "lone-surrogate-text", "duplicate-links"]


@pytest.mark.parametrize("case", LIVE_ACCEPTED)
def test_the_sandbox_stores_unusual_but_valid_documents(alice, case):
    structure = UNUSUAL_BUT_VALID[case]
    response = alice.post("/datapacks", json={"name": unique(case), "owner": alice.id, "structure": structure})
    assert response.status_code == 200, response.text
    pack = response.json()["item"]["id"]
    assert alice.get(f"/datapacks/{pack}").json()["structure"] == structure
    assert alice.get(f"/datapacks/{pack}/content").status_code == 200
    assert alice.post(f"/datapacks/{pack}", json={"structure": structure}).status_code == 200


@pytest.mark.parametrize("case", ["no-link", "type-no-uuid", "keywords-duplicated", "meta-string", "unknown-class",
                                  "info-no-author", "link-number", "deep-violation"])
def test_the_sandbox_refuses_schema_violations_with_422(alice, case):
    structure, message = VIOLATIONS[case]
    response = alice.post("/datapacks", json={"name": unique(case), "owner": alice.id, "structure": structure})
    assert response.status_code == 422
    assert set(response.json()) == {"error"}
    if message:
        assert message in response.json()["error"]
    pack = alice.create_datapack()
    update = alice.post(f"/datapacks/{pack}", json={"structure": structure})
    assert update.status_code == 422
    assert alice.get(f"/datapacks/{pack}").json()["structure"] == document()


def raw_nested_body(alice, levels: int) -> str:
    doc = json.dumps(nested(1))
    return json.dumps({"name": unique("deep"), "owner": alice.id, "structure": json.loads(doc)})[:-1] + \
        ', "padding": ' + "[" * levels + "]" * levels + "}"


@pytest.mark.parametrize("levels", [600, 100_000])
def test_a_body_nested_beyond_the_sandbox_limit_is_422_not_a_crash(alice, levels):
    response = alice.post("/datapacks", data=raw_nested_body(alice, levels),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "deep" in response.json()["error"]


def test_a_body_just_inside_the_limit_is_read(alice):
    response = alice.post("/datapacks", data=raw_nested_body(alice, 500), headers={"Content-Type": "application/json"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("body", ['{"name": "x", "owner": 1, "structure": NaN}', '{"name": 1e400}',
                                  '{"name": "x", "owner": Infinity}', "{'name': 'x'}", "", b"\xff\xfe{"],
                         ids=["nan", "overflow", "infinity", "python-dict", "empty", "not-utf8"])
def test_bodies_that_are_not_strict_json_are_400(alice, body):
    response = alice.post("/datapacks", data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_name_with_a_lone_surrogate_is_400_not_a_crash(alice):
    response = alice.post("/datapacks", data='{"name": "\\ud800", "owner": 1, "structure": {}}',
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
