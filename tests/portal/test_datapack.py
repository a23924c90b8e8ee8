"""The datapack rules (portal/datapack.py): parsing, the problems a user sees, walking the tree,
safe links, and pairing links with the files sent beside the document."""
from __future__ import annotations

import copy
import json
import unicodedata

import pytest

from portal.rules.datapack_rules import (
    MAX_DEPTH,
    DATAPACK_SHAPE,
    DatapackInvalid,
    document_problems,
    is_uploaded,
    link_problems,
    load_document,
    match_links_to_files,
    normalize_path,
    parse_document,
    pending_links,
    place_of,
    reference_id,
    unsafe_link_reason,
    walk_data_nodes,
    walk_nodes,
)

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
HASH = "a" * 40

# The document of the shared API page.
API_EXAMPLE = {
    "info": {"name": "MYO_various", "author": "someone", "description": "…", "keywords": ["MYO", "video"]},
    "children": [
        {"class": "data", "name": "Video", "text": "Handheld camera", "link": "video.mp4",
         "mime": "video/mp4; charset=binary"},
        {"class": "container", "name": "IMU", "text": "Inertial data", "children": [
            {"class": "data", "name": "Accelerometer", "text": "XYZ acceleration", "link": "accelerometer.json"},
        ]},
    ],
}

INFO = {"name": "pack", "author": "ana", "description": "d", "keywords": []}


def data(link="a.json", **extra):
    return {"class": "data", "name": "n", "text": "t", "link": link, **extra}


def container(*children, **extra):
    return {"class": "container", "name": "c", "text": "t", "children": list(children), **extra}


def doc(*children, info=None):
    return {"info": dict(INFO) if info is None else info, "children": list(children)}


def technical(problems) -> list[str]:
    """Problems as "<technical place>: <message>", the part of each that these tests pin down."""
    return [f"{problem.place or 'document'}: {problem.message}" for problem in problems]


def problems_of(document) -> list[str]:
    """The problems parse_document reports for `document` (a JSON value, or raw bytes as uploaded),
    each as "<place>: <message>".

    For a value, document_problems (used on JSON that is already parsed) must say the same."""
    raw = document if isinstance(document, bytes) else json.dumps(document).encode("utf-8")
    with pytest.raises(DatapackInvalid) as caught:
        parse_document(raw)
    if not isinstance(document, bytes):
        assert document_problems(document) == caught.value.problems
    return technical(caught.value.problems)


# -- valid documents --------------------------------------------------------------------------

VALID = {
    "api example": API_EXAMPLE,
    "no children": doc(),
    "nested containers": doc(container(container(container(data("deep/x.json")), data("y.json")), container())),
    "unicode names": {
        "info": {"name": "Señales ✓", "author": "Zoë", "description": "日本語", "keywords": ["émg", "ü"]},
        "children": [{"class": "data", "name": "Électromyographie", "text": "信号", "link": "señal 1.json"}],
    },
    "links with spaces and folders": doc(data("emg 2.json"), data("sensors/emg 2.json"), data("a b/c d/e f.wav")),
    "optional keys": doc(data(id=UUID, type=UUID, meta={"mime": "audio/wav", "rate": 8000}, mime="audio/wav"),
                         container(id=UUID), info={**INFO, "id": UUID}),
    "uploaded links": doc(data("repovizz:" + HASH)),
    "extra keys are allowed": {**doc(data(color="red")), "version": 2},
}


@pytest.mark.parametrize("document", VALID.values(), ids=VALID.keys())
def test_valid_documents_pass(document):
    assert document_problems(document) == []
    assert parse_document(json.dumps(document)) == document
    assert parse_document(json.dumps(document).encode("utf-8")) == document
    assert parse_document(json.dumps(document, ensure_ascii=False).encode("utf-8")) == document


def test_byte_order_mark_is_accepted_in_bytes_and_text():
    text = json.dumps(API_EXAMPLE, ensure_ascii=False)
    assert parse_document(("\ufeff" + text).encode("utf-8")) == API_EXAMPLE
    assert parse_document("\ufeff" + text) == API_EXAMPLE


def test_the_shipped_example_is_valid():
    from pathlib import Path

    example = Path(__file__).parents[2] / "portal" / "example" / "datapack.json"
    document = parse_document(example.read_bytes())
    assert [node.link for node in walk_data_nodes(document)] == [
        "setup.png", "audio/tone.wav", "sensors/accelerometer.json", "sensors/emg 2.json"]
    assert link_problems(document) == []


# -- broken documents: one problem each, with its place ---------------------------------------

def without(mapping, key):
    return {k: v for k, v in mapping.items() if k != key}


def deep(leaf):
    """`leaf` at children[1].children[0].children[2]."""
    return doc(data("x.json"), container(container(data("a.json"), data("b.json"), leaf)))


BROKEN = [
    ("not json", b'{"info": ', "document: is not valid JSON (Expecting value at line 1, column 10)"),
    ("trailing comma", b'{"info": {},}', "document: is not valid JSON (Expecting property name enclosed in double "
                                             "quotes at line 1, column 13)"),
    ("not utf-8", '{"info": "é"}'.encode("latin-1"), "document: is not UTF-8 text"),
    ("NaN", b'{"info": {}, "children": [], "x": NaN}', "document: is not valid JSON (NaN is not a JSON number)"),
    ("empty file", b"", "document: is not valid JSON (Expecting value at line 1, column 1)"),
    ("top-level array", [API_EXAMPLE], f"document: this does not look like a datapack document (it is a JSON array); "
                                       f"{DATAPACK_SHAPE}"),
    ("top-level string", "datapack", f"document: this does not look like a datapack document (it is a JSON string); "
                                     f"{DATAPACK_SHAPE}"),
    ("top-level null", None, f"document: this does not look like a datapack document (it is null); {DATAPACK_SHAPE}"),
    ("an object of something else", {"rows": [[1, 2]]},
     'document: this does not look like a datapack document (it is a JSON object without "info" or "children"); '
     f"{DATAPACK_SHAPE}"),
    ("missing info", without(API_EXAMPLE, "info"), "document: 'info' is required"),
    ("missing children", without(API_EXAMPLE, "children"), "document: 'children' is required"),
    ("children not an array", {**API_EXAMPLE, "children": {}}, "children: 'children' must be of type array, not object"),
    ("info not an object", {**API_EXAMPLE, "info": "MYO"}, "info: 'info' must be of type object, not string"),
    ("missing info.name", doc(info=without(INFO, "name")), "info: 'name' is required"),
    ("missing info.keywords", doc(info=without(INFO, "keywords")), "info: 'keywords' is required"),
    ("info.name not a string", doc(info={**INFO, "name": 7}), "info.name: 'name' must be of type string, not integer"),
    ("keywords not a list", doc(info={**INFO, "keywords": "a, b"}),
     "info.keywords: 'keywords' must be of type array, not string"),
    ("keywords not unique", doc(info={**INFO, "keywords": ["a", "b", "a"]}),
     "info.keywords: 'keywords' must not repeat a value"),
    ("keyword not a string", doc(info={**INFO, "keywords": ["a", 2]}),
     "info.keywords[1]: keyword 2 must be of type string, not integer"),
    ("bad info.id", doc(info={**INFO, "id": "42"}), 'info.id: \'id\' must contain a UUID (lowercase hex, 8-4-4-4-12), not "42"'),
    ("wrong class", doc(data(), {**data(), "class": "folder"}),
     'children[1].class: \'class\' must be "container" or "data", not "folder"'),
    ("class not a string", doc({**data(), "class": 1}), 'children[0].class: \'class\' must be "container" or "data", not 1'),
    ("missing class", doc(without(data(), "class")), "children[0]: 'class' is required"),
    ("missing name", doc(without(data(), "name")), "children[0]: 'name' is required"),
    ("missing text", doc(without(container(), "text")), "children[0]: 'text' is required"),
    ("container without children", doc(data(), without(container(), "children")),
     "children[1]: 'children' is required"),
    ("container children not an array", doc({**container(), "children": data()}),
     "children[0].children: 'children' must be of type array, not object"),
    ("data without link", doc(data(), container(without(data(), "link"))),
     "children[1].children[0]: 'link' is required"),
    ("link not a string", doc(data(link=["a.json"])), "children[0].link: 'link' must be of type string, not array"),
    ("link null", doc(data(link=None)), "children[0].link: 'link' must be of type string, not null"),
    ("name not a string", doc(container(data(), {**data(), "name": True})),
     "children[0].children[1].name: 'name' must be of type string, not boolean"),
    ("text not a string", doc({**data(), "text": 1.5}), "children[0].text: 'text' must be of type string, not number"),
    ("bad node id", doc(data(id="not-a-uuid")),
     'children[0].id: \'id\' must contain a UUID (lowercase hex, 8-4-4-4-12), not "not-a-uuid"'),
    ("uppercase uuid type", doc(data(type=UUID.upper())),
     f'children[0].type: \'type\' must contain a UUID (lowercase hex, 8-4-4-4-12), not "{UUID.upper()}"'),
    ("uuid id not a string", doc(container(id=5)), "children[0].id: 'id' must be of type string, not integer"),
    ("meta not an object", doc(data(meta="audio/wav")), "children[0].meta: 'meta' must be of type object, not string"),
    ("mime not a string", doc(data(mime=["audio/wav"])), 'children[0].mime: \'mime\' must be text such as "video/mp4", not array'),
    ("node not an object", doc(data(), "video.mp4"), "children[1]: node 2 must be of type object, not string"),
    ("node is a list", doc(container([data()])), "children[0].children[0]: node 1 must be of type object, not array"),
    ("deep nesting", deep(without(data(), "link")), "children[1].children[0].children[2]: 'link' is required"),
    ("deep wrong type", deep(data(meta=[])), "children[1].children[0].children[2].meta: 'meta' must be of type object, "
                                             "not array"),
    ("unicode value shown as typed", doc(data(id="é")),
     'children[0].id: \'id\' must contain a UUID (lowercase hex, 8-4-4-4-12), not "é"'),
]


@pytest.mark.parametrize(("document", "message"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_broken_document_reports_its_problem_with_its_place(document, message):
    assert problems_of(document) == [message]


def test_load_document_reads_json_without_checking_the_rules():
    assert load_document(b'{"info": 1}') == {"info": 1}
    assert load_document('\ufeff{"children": []}') == {"children": []}
    for raw, problem in [(b"[]", f"repovizz2 would refuse this: the document: this does not look like a datapack "
                                 f"document (it is a JSON array); {DATAPACK_SHAPE}"),
                         (b"{", "the document: is not valid JSON (Expecting property name enclosed in double quotes "
                                "at line 1, column 2)"),
                         (b'{"x": Infinity}', "the document: is not valid JSON (Infinity is not a JSON number)"),
                         (b'{"x": 1e400}', "the document: is not valid JSON (1e400 is too large a number)"),
                         (b'{"x": "\\ud800"}', "the document: contains a lone surrogate (\\ud800), which is not text"),
                         (b'{"x": "\\udc00"}', "the document: contains a lone surrogate (\\udc00), which is not text"),
                         (b'"abc', "the document: is not valid JSON (Unterminated string starting at line 1, column 1)"),
                         (b"\xff{}", "the document: is not UTF-8 text")]:
        with pytest.raises(DatapackInvalid) as caught:
            load_document(raw)
        assert caught.value.problems == [problem]


def test_problems_join_into_the_exception_message():
    with pytest.raises(DatapackInvalid) as caught:
        parse_document(json.dumps(doc(without(data(), "name"), without(data(), "text"))))
    assert str(caught.value) == ("repovizz2 would refuse this: (unnamed): 'name' is required (children[0]); "
                                 "repovizz2 would refuse this: n: 'text' is required (children[1])")
    assert isinstance(caught.value, ValueError)


def test_several_missing_keys_of_one_node_are_one_problem():
    assert problems_of({"info": {}, "children": []}) == [
        "info: 'name' is required, 'author' is required, 'description' is required, 'keywords' is required"]


def test_every_problem_is_reported_at_once_in_document_order():
    document = {
        "info": {"name": 1, "author": "a", "description": "d", "keywords": ["k", "k"], "id": "x"},
        "children": [
            {"class": "data", "text": "t", "link": 2, "name": 3},
            {"class": "container", "name": "c", "text": "t", "children": [
                {"class": "data", "name": "n", "text": "t"},
                "oops",
                {"class": "container", "name": "c", "text": "t", "children": [{"class": "folder"}]},
            ]},
            {"class": "container", "name": "c", "text": "t"},
        ],
    }
    assert problems_of(document) == [
        "info.name: 'name' must be of type string, not integer",
        "info.keywords: 'keywords' must not repeat a value",
        'info.id: \'id\' must contain a UUID (lowercase hex, 8-4-4-4-12), not "x"',
        "children[0].link: 'link' must be of type string, not integer",
        "children[0].name: 'name' must be of type string, not integer",
        "children[1].children[0]: 'link' is required",
        "children[1].children[1]: node 2 must be of type object, not string",
        "children[1].children[2].children[0]: 'name' is required, 'text' is required",
        'children[1].children[2].children[0].class: \'class\' must be "container" or "data", not "folder"',
        "children[2]: 'children' is required",
    ]


def test_children_before_info_when_the_document_says_so():
    document = {"children": [without(data(), "text")], "info": without(INFO, "author")}
    assert problems_of(document) == ["children[0]: 'text' is required", "info: 'author' is required"]


def test_problems_are_not_repeated():
    # A container missing both 'text' and 'children': one problem at that node, naming both.
    assert problems_of(doc({"class": "container", "name": "c"})) == [
        "children[0]: 'text' is required, 'children' is required"]


TOO_DEEP = (f"is nested more than {MAX_DEPTH} levels deep; the portal creates datapacks of at most {MAX_DEPTH} levels "
            "(a limit of the portal, not of repovizz2)")


def test_nesting_beyond_the_limit_is_one_problem_not_a_crash():
    def nested(levels):
        node = data()
        for _ in range(levels - 1):
            node = container(node)
        return doc(node)

    assert document_problems(nested(MAX_DEPTH)) == []
    place = ".".join(["children[0]"] * (MAX_DEPTH + 1))
    assert problems_of(nested(MAX_DEPTH + 1)) == [f"{place}: {TOO_DEEP}"]
    assert problems_of(nested(400)) == [f"{place}: {TOO_DEEP}"]
    assert problems_of(b'{"info": ' + b"[" * 100_000 + b"]" * 100_000 + b"}") == [
        "document: is nested too deeply to read"]


def test_the_first_node_too_deep_in_document_order_is_named():
    def chain(levels, leaf):
        for _ in range(levels):
            leaf = container(leaf)
        return leaf

    document = doc(data(), chain(MAX_DEPTH - 1, data()), chain(MAX_DEPTH, data()), chain(MAX_DEPTH + 5, data()))
    place = "children[2]" + ".children[0]" * MAX_DEPTH
    assert technical(document_problems(document)) == [f"{place}: {TOO_DEEP}"]


def test_validation_at_the_depth_limit_survives_a_deep_call_stack():
    node = data()
    for _ in range(MAX_DEPTH - 1):
        node = container(node)

    def call_at_depth(frames):
        return call_at_depth(frames - 1) if frames else document_problems(doc(node))

    assert call_at_depth(300) == []


def test_document_problems_never_raises_on_odd_json():
    for value in ([], "x", 1, None, {"children": "x", "info": []}, {"children": [[], None, 1, {"class": []}]}):
        assert isinstance(document_problems(value), list)
        assert document_problems(value)


# -- places and walking ---------------------------------------------------------------------

@pytest.mark.parametrize(("path", "place"), [
    ([], "document"),
    (["info"], "info"),
    (["info", "keywords", 2], "info.keywords[2]"),
    (["children", 1, "children", 0], "children[1].children[0]"),
    (["children", 1, "children", 0, "children", 2, "link"], "children[1].children[0].children[2].link"),
])
def test_place_of(path, place):
    assert place_of(path) == place


def test_walk_nodes_in_document_order_with_place_and_depth():
    document = doc(data("a"), container(data("b"), container(data("c")), data("d")), container(), data("e"))
    walked = [(node.place, node.depth, node.name if not node.is_data else node.link) for node in walk_nodes(document)]
    assert walked == [
        ("children[0]", 0, "a"),
        ("children[1]", 0, "c"),
        ("children[1].children[0]", 1, "b"),
        ("children[1].children[1]", 1, "c"),
        ("children[1].children[1].children[0]", 2, "c"),
        ("children[1].children[2]", 1, "d"),
        ("children[2]", 0, "c"),
        ("children[3]", 0, "e"),
    ]
    assert [node.link for node in walk_data_nodes(document)] == ["a", "b", "c", "d", "e"]
    assert [node.place for node in walk_data_nodes(document)] == [
        "children[0]", "children[1].children[0]", "children[1].children[1].children[0]", "children[1].children[2]",
        "children[3]"]


def test_walk_data_nodes_of_the_api_example():
    nodes = walk_data_nodes(API_EXAMPLE)
    assert [(node.place, node.name, node.link, node.mime) for node in nodes] == [
        ("children[0]", "Video", "video.mp4", "video/mp4; charset=binary"),
        ("children[1].children[0]", "Accelerometer", "accelerometer.json", ""),
    ]
    assert nodes[1].node is API_EXAMPLE["children"][1]["children"][0]
    assert not any(node.uploaded for node in nodes)


def test_walk_skips_what_is_not_a_node_and_survives_any_depth():
    document = {"children": [None, "x", data("a"), {"class": "container", "children": "nope"},
                             {"class": "data", "children": [data("hidden")]}]}
    assert [node.place for node in walk_nodes(document)] == ["children[2]", "children[3]", "children[4]"]
    assert walk_data_nodes({"info": {}}) == []
    node = data("bottom")
    for _ in range(5000):
        node = container(node)
    (bottom,) = walk_data_nodes(doc(node))
    assert bottom.link == "bottom" and bottom.depth == 5000


def test_tree_node_mime_from_meta_after_the_server_moved_it():
    (node,) = walk_data_nodes(doc(data("repovizz:" + HASH, meta={"mime": "audio/wav"})))
    assert node.mime == "audio/wav" and node.uploaded


# -- uploaded links -------------------------------------------------------------------------

@pytest.mark.parametrize(("link", "uploaded", "reference"), [
    ("repovizz:" + HASH, True, HASH),
    ("repovizz:", True, ""),
    ("video.mp4", False, ""),
    ("repovizz/video.mp4", False, ""),
    ("REPOVIZZ:" + HASH, False, ""),
    (None, False, ""),
])
def test_uploaded_links_and_their_reference(link, uploaded, reference):
    assert is_uploaded(link) is uploaded
    assert reference_id(link) == reference


def test_pending_links_of_a_content_listing():
    content = {"video.mp4": {}, "repovizz:" + HASH: {}, "emg 2.json": {}}
    assert pending_links(content) == ["video.mp4", "emg 2.json"]
    assert pending_links({}) == []


# -- link rules -----------------------------------------------------------------------------

@pytest.mark.parametrize(("link", "reason"), [
    ("video.mp4", None),
    ("emg 2.json", None),
    ("sensors/emg 2.json", None),
    ("./a.json", None),
    ("señal ✓.json", None),
    ("a..b.json", None),
    ("...", None),
    ("x" * 1024, None),
    ("", "is empty"),
    ("   ", "is empty"),
    ("a\x00.json", "contains a NUL character"),
    ("/etc/passwd", "is an absolute path"),
    ("\\\\server\\share\\a.json", "is an absolute path"),
    ("C:\\data\\a.json", "is an absolute path"),
    ("c:a.json", "is an absolute path"),
    ("1:2.json", None),
    ("..", "goes up a folder with '..'"),
    ("../a.json", "goes up a folder with '..'"),
    ("sensors/../../a.json", "goes up a folder with '..'"),
    ("sensors\\..\\a.json", "goes up a folder with '..'"),
    ("x" * 1025, "is longer than 1024 characters"),
    (5, "is not a string"),
])
def test_unsafe_link_reason(link, reason):
    assert unsafe_link_reason(link) == reason


def test_link_problems_name_the_place_and_the_link():
    document = doc(data("ok.json"), container(data("../up.json"), data("")), data("/abs"), data("repovizz:" + HASH))
    assert technical(link_problems(document)) == [
        "children[1].children[0]: link '../up.json' goes up a folder with '..'",
        "children[1].children[1]: link '' is empty",
        "children[2]: link '/abs' is an absolute path",
    ]


def test_duplicate_links_are_one_problem_listing_every_place():
    document = doc(data("video.mp4"), container(data("video.mp4"), data("b.json")), data("video.mp4"),
                   data("b.json"))
    assert technical(link_problems(document)) == [
        "document: link 'video.mp4' is used by 3 data nodes: n (children[0]), c › n (children[1].children[0]), "
        "n (children[2]); each file can be uploaded once",
        "document: link 'b.json' is used by 2 data nodes: c › n (children[1].children[1]), n (children[3]); "
        "each file can be uploaded once",
    ]


def test_uploaded_links_may_repeat_and_unsafe_ones_are_not_also_duplicates():
    document = doc(data("repovizz:" + HASH), data("repovizz:" + HASH), data(""), data(""))
    assert technical(link_problems(document)) == ["children[2]: link '' is empty", "children[3]: link '' is empty"]


def test_link_problems_survive_links_that_are_not_strings():
    document = {"children": [{"class": "data", "link": 5}, {"class": "data", "link": ["a"]}, {"class": "data"}]}
    # A missing or non-string link is the schema's problem (document_problems); listing it again would repeat it.
    assert link_problems(document) == []
    problems = document_problems(document)
    assert "children[0].link: 'link' must be of type string, not integer" in technical(problems)
    assert "children[2]: 'name' is required, 'text' is required, 'link' is required" in technical(problems)


# -- normalising paths ----------------------------------------------------------------------

@pytest.mark.parametrize(("path", "normal"), [
    ("a.json", "a.json"),
    ("./a.json", "a.json"),
    ("sensors\\emg 2.json", "sensors/emg 2.json"),
    ("pack\\sensors\\a.json", "pack/sensors/a.json"),
    ("/pack/a.json", "pack/a.json"),
    ("pack//sensors/./a.json", "pack/sensors/a.json"),
    ("pack/", "pack"),
    ("", ""),
])
def test_normalize_path(path, normal):
    assert normalize_path(path) == normal


# -- matching links to files ----------------------------------------------------------------

def test_match_by_exact_relative_path():
    match = match_links_to_files(["video.mp4", "sensors/emg 2.json"], ["sensors/emg 2.json", "video.mp4"])
    assert match.matched == {"video.mp4": "video.mp4", "sensors/emg 2.json": "sensors/emg 2.json"}
    assert match.problems == []


def test_match_under_the_folder_a_folder_upload_prefixes():
    match = match_links_to_files(["video.mp4", "sensors/emg 2.json"],
                                 ["MYO/video.mp4", "MYO/sensors/emg 2.json"])
    assert match.matched == {"video.mp4": "MYO/video.mp4", "sensors/emg 2.json": "MYO/sensors/emg 2.json"}
    assert match.problems == []


def test_folder_prefix_with_the_same_name_deeper_down():
    # pack/a.json and pack/old/a.json both end with "/a.json"; old/a.json takes its own, a.json gets the other.
    match = match_links_to_files(["a.json", "old/a.json"], ["pack/a.json", "pack/old/a.json"])
    assert match.matched == {"a.json": "pack/a.json", "old/a.json": "pack/old/a.json"}
    assert match.problems == []


def test_a_stray_copy_makes_the_link_ambiguous_rather_than_guessed():
    # The document may sit in a subfolder (pack/data/datapack.json, links relative to it): the shallower
    # pack/a.json is then the stray one, so depth decides nothing.
    match = match_links_to_files(["a.json"], ["pack/a.json", "pack/data/a.json"])
    assert match.matched == {}
    assert match.problems == ["link 'a.json' matches several files: 'pack/a.json', 'pack/data/a.json'"]


def test_exact_path_wins_over_a_longer_one():
    match = match_links_to_files(["a.json"], ["a.json", "pack/a.json"])
    assert match.matched == {"a.json": "a.json"}
    assert match.unreferenced == ["pack/a.json"]
    assert match.problems == []  # a file no link means is left out, not a problem


def test_match_by_file_name_when_files_were_chosen_one_by_one():
    match = match_links_to_files(["audio/tone.wav", "sensors/emg 2.json"], ["tone.wav", "emg 2.json"])
    assert match.matched == {"audio/tone.wav": "tone.wav", "sensors/emg 2.json": "emg 2.json"}
    assert match.problems == []


def test_names_with_spaces_and_unicode():
    links = ["emg 2.json", "señal ✓/données brutes.csv", "日本/データ.bin"]
    files = ["emg 2.json", "señal ✓/données brutes.csv", "pack/日本/データ.bin"]
    match = match_links_to_files(links, files)
    assert match.matched == dict(zip(links, files))
    assert match.problems == []


def test_decomposed_unicode_from_macos_matches_the_composed_link():
    decomposed = unicodedata.normalize("NFD", "pack/señal.json")
    assert decomposed != "pack/señal.json"
    match = match_links_to_files(["señal.json"], [decomposed])
    assert match.matched == {"señal.json": decomposed}
    assert match.problems == []


def test_backslashes_are_normalised_in_links_and_files():
    match = match_links_to_files(["sensors\\emg 2.json", "audio/tone.wav"],
                                 ["pack\\sensors\\emg 2.json", "pack\\audio\\tone.wav"])
    assert match.matched == {"sensors\\emg 2.json": "pack/sensors/emg 2.json", "audio/tone.wav": "pack/audio/tone.wav"}
    assert match.problems == []


def test_missing_file():
    match = match_links_to_files(["video.mp4", "emg 2.json"], ["video.mp4"])
    assert match.missing == ["emg 2.json"]
    assert match.problems == ["no file was sent for link 'emg 2.json'"]


def test_unreferenced_files():
    match = match_links_to_files(["video.mp4"], ["video.mp4", "notes.txt", "old/notes 2.txt"])
    assert match.unreferenced == ["notes.txt", "old/notes 2.txt"]
    assert match.problems == []  # left out of the upload (and listed), not a problem


def test_ambiguous_link():
    match = match_links_to_files(["emg.json"], ["day 1/emg.json", "day 2/emg.json"])
    assert match.ambiguous == {"emg.json": ["day 1/emg.json", "day 2/emg.json"]}
    assert match.matched == {} and match.unreferenced == []
    assert match.problems == ["link 'emg.json' matches several files: 'day 1/emg.json', 'day 2/emg.json'"]


def test_ambiguous_by_file_name():
    match = match_links_to_files(["sensors/emg.json"], ["a/emg.json", "b/emg.json"])
    assert match.problems == ["link 'sensors/emg.json' matches several files: 'a/emg.json', 'b/emg.json'"]


def test_contested_file():
    match = match_links_to_files(["sensors/emg.json", "backup/emg.json"], ["emg.json"])
    assert match.contested == {"emg.json": ["sensors/emg.json", "backup/emg.json"]}
    assert match.matched == {} and match.missing == [] and match.unreferenced == []
    assert match.problems == ["file 'emg.json' is matched by several links: 'sensors/emg.json', 'backup/emg.json'"]


def test_contested_by_an_exact_path_and_a_file_name():
    match = match_links_to_files(["emg.json", "other/emg.json"], ["emg.json"])
    assert match.problems == ["file 'emg.json' is matched by several links: 'emg.json', 'other/emg.json'"]


def test_a_file_taken_by_one_link_is_no_longer_a_candidate_of_another():
    match = match_links_to_files(["a.json", "x/a.json"], ["x/a.json", "y/a.json"])
    assert match.matched == {"a.json": "y/a.json", "x/a.json": "x/a.json"}
    assert match.problems == []


def test_a_link_whose_candidates_were_all_taken_contests_them():
    match = match_links_to_files(["a.json", "x/a.json", "y/a.json"], ["x/a.json", "y/a.json"])
    assert match.matched == {} and match.ambiguous == {}
    assert match.contested == {"x/a.json": ["a.json", "x/a.json"], "y/a.json": ["a.json", "y/a.json"]}


def test_every_kind_of_problem_at_once_in_a_stable_order():
    match = match_links_to_files(
        ["gone.wav", "emg.json", "a/x.bin", "b/x.bin", "ok.txt"],
        ["ok.txt", "d1/emg.json", "d2/emg.json", "x.bin", "stray.png"])
    assert match.matched == {"ok.txt": "ok.txt"}
    assert match.problems == [
        "no file was sent for link 'gone.wav'",
        "link 'emg.json' matches several files: 'd1/emg.json', 'd2/emg.json'",
        "file 'x.bin' is matched by several links: 'a/x.bin', 'b/x.bin'",
    ]
    assert match.unreferenced == ["stray.png"]


def test_a_link_that_is_repeated_is_matched_once():
    match = match_links_to_files(["a.json", "a.json"], ["a.json"])
    assert match.matched == {"a.json": "a.json"} and match.problems == []


def test_files_named_twice_are_one_file():
    match = match_links_to_files(["a.json"], ["a.json", "./a.json", "a.json"])
    assert match.matched == {"a.json": "a.json"} and match.problems == []


def test_odd_links_match_nothing_and_blank_ones_are_not_looked_for():
    match = match_links_to_files(["", "  ", ".", "/"], ["a.json"])
    assert match.missing == [".", "/"]  # link_problems says why; a blank link is only reported there
    assert match.unreferenced == ["a.json"]


def test_links_that_are_not_strings_are_left_to_the_document_rules():
    match = match_links_to_files([5, None, ["a.json"], "b.json"], ["5", "None", "b.json"])
    assert match.matched == {"b.json": "b.json"}
    assert match.missing == [] and match.unreferenced == ["5", "None"]


def test_matching_does_not_change_its_inputs():
    links = ["a.json", "b.json"]
    files = ["pack/a.json", "pack/b.json"]
    before = copy.deepcopy((links, files))
    match_links_to_files(links, files)
    assert (links, files) == before


def test_container_names_give_each_place_its_trail():
    from portal.rules.datapack_rules import container_names

    document = {"children": [
        {"class": "data", "name": "a", "text": "", "link": "a"},
        {"class": "container", "name": "Outer", "text": "", "children": [
            {"class": "container", "name": "Inner", "text": "", "children": [
                {"class": "data", "name": "b", "text": "", "link": "b"}]},
            {"class": "data", "name": "c", "text": "", "link": "c"}]},
        {"class": "data", "name": "d", "text": "", "link": "d"}]}
    names = container_names(document)
    assert names["children[0]"] == []
    assert names["children[1].children[0].children[0]"] == ["Outer", "Inner"]
    assert names["children[1].children[1]"] == ["Outer"]
    assert names["children[2]"] == []


# -- two levels: the public schema's rules and the portal's own ------------------------------------

from portal.rules.datapack_rules import (  # noqa: E402
    MAX_NESTING,
    Problem,
    copy_json,
    link_reason,
    portal_problems,
    readable_copy,
    schema_problems,
    strict_json,
    to_json_text,
    upload_problems,
)

def nested_containers(levels: int) -> dict:
    """A data node inside `levels` - 1 containers."""
    node = data()
    for _ in range(levels - 1):
        node = container(node)
    return node


SCHEMA_ACCEPTS = {
    "mime null": doc(data(mime=None)),
    "mime a number": doc(data(mime=5)),
    "mime an object": doc(data(mime={"type": "audio/wav"})),
    "an empty info name": doc(info={**INFO, "name": ""}),
    "60 nested containers": doc(nested_containers(60)),
    "a link with a line break": doc(data("a\r\nb.wav")),
    "links with dot segments": doc(data("./a.wav"), data("a//b.wav")),
    "duplicate links": doc(data("a.wav"), data("a.wav")),
    "control characters in names": doc({**data(), "name": "x\x07"}),
}
BOTH_ACCEPT = {
    "a type that contains a uuid": doc(data(type=f"urn:uuid:{UUID}")),
    "an id that contains a uuid": doc(container(id=f"x{UUID}y"), info={**INFO, "id": f"pack-{UUID}"}),
    "a data node with children": doc(data(children=[1, 2])),
    "a container with a link": doc(container(link=5)),
}


@pytest.mark.parametrize("document", BOTH_ACCEPT.values(), ids=BOTH_ACCEPT.keys())
def test_both_levels_accept(document):
    assert upload_problems(document) == []


@pytest.mark.parametrize("document", SCHEMA_ACCEPTS.values(), ids=SCHEMA_ACCEPTS.keys())
def test_the_public_schema_accepts_what_the_portal_would_not_create(document):
    assert schema_problems(document) == []
    assert upload_problems(document)  # the portal's own rules for a new datapack are stricter
    assert all(problem.kind == "portal" for problem in upload_problems(document))


def test_the_uuid_pattern_is_the_references_unanchored_one():
    assert schema_problems(doc(data(type=UUID.upper())))  # lowercase only, as the reference says
    assert schema_problems(doc(data(id="0f8fad5b-d9cb-469f-a165")))  # not a whole uuid
    assert schema_problems(doc(data(type=5)))[0].message == "'type' must be of type string, not integer"
    assert schema_problems(doc(data(type=f"prefix {UUID} suffix"))) == []


def test_the_schema_has_no_depth_limit_and_the_portal_states_its_own():
    node = data()
    for _ in range(3000):
        node = container(node)
    document = doc(node)
    assert schema_problems(document) == []
    (problem,) = portal_problems(document)
    assert problem.kind == "portal" and "(a limit of the portal, not of repovizz2)" in problem.message
    assert problem.where == "c › c › … › c › c › c"


def test_every_problem_says_whose_rule_it_is():
    document = doc(container(data("a.wav", id="nope"), data("b//c.wav"), data("d.wav", mime=None)),
                   info={**INFO, "name": " "})
    problems = upload_problems(document)
    assert [(problem.kind, problem.where, problem.place) for problem in problems] == [
        ("schema", "c › n", "children[0].children[0].id"),
        ("portal", "the datapack's info", "info.name"),
        ("portal", "c › n", "children[0].children[2].mime"),
        ("portal", "c › n", "children[0].children[1]"),
    ]
    assert str(problems[0]).startswith("repovizz2 would refuse this: c › n: 'id' must contain a UUID")
    assert str(problems[1]).startswith("the portal's own check: the datapack's info: 'name' must not be empty")


def test_a_problem_is_its_readable_line_and_keeps_its_parts():
    problem = Problem("no file was sent for link 'o.json'", where="IMU › Orientation", place="children[2].children[2]")
    assert problem == "IMU › Orientation: no file was sent for link 'o.json' (children[2].children[2])"
    assert json.loads(json.dumps([problem])) == [str(problem)]
    assert problem.as_dict() == {"kind": "file", "where": "IMU › Orientation", "place": "children[2].children[2]",
                                 "message": "no file was sent for link 'o.json'", "text": str(problem)}
    copied = copy.deepcopy(problem)
    assert copied == problem and copied.where == problem.where and copied.kind == "file"
    invalid = DatapackInvalid(["plain text", problem])
    assert invalid.problems[0].kind == "file" and invalid.problems[1] is problem
    assert invalid.details[1]["place"] == "children[2].children[2]"


def test_a_broken_node_is_reported_once():
    # A data node the schema refuses is not looked at again by the portal's rules (its link, its name).
    document = doc(data("../up.json", name=5, mime=None))
    problems = upload_problems(document)
    assert [problem.message for problem in problems] == ["'name' must be of type string, not integer"]


def test_names_from_the_root_stay_readable():
    document = doc(container(container(data("x.json", name="Orientation\nX"), name=""), name="IMU"))
    (node,) = walk_data_nodes(document)
    assert node.where == "IMU › (unnamed) › Orientation X"


@pytest.mark.parametrize(("link", "reason"), [
    ("a.json", None),
    ("sensors/emg 2.json", None),
    ("a//b.json", "has an empty or '.' part between slashes"),
    ("./a.json", "has an empty or '.' part between slashes"),
    ("a/./b.json", "has an empty or '.' part between slashes"),
    ("a/", "has an empty or '.' part between slashes"),
    ("a\r\nb.json", "contains a control character (U+000D)"),
    ("a\tb.json", "contains a control character (U+0009)"),
    ("a\x85b.json", "contains a control character (U+0085)"),
    ("a\ud800.json", "contains a lone surrogate"),
    ("../a.json", "goes up a folder with '..'"),
])
def test_link_reason(link, reason):
    found = link_reason(link)
    assert (found is None) if reason is None else found.startswith(reason)


# -- strict JSON in, valid JSON out, nothing recursive ---------------------------------------------

@pytest.mark.parametrize(("raw", "reason"), [
    (b'{"a": 1e400}', "is not valid JSON (1e400 is too large a number)"),
    (b'{"a": -1e999}', "is not valid JSON (-1e999 is too large a number)"),
    (b'{"a": NaN}', "is not valid JSON (NaN is not a JSON number)"),
    (b'{"\\ud800": 1}', "contains a lone surrogate (\\ud800), which is not text"),
    (b'["ok", ["\\udfff"]]', "contains a lone surrogate (\\udfff), which is not text"),
    (b'"abc', "is not valid JSON (Unterminated string starting at line 1, column 1)"),
    (b"[" * 100_000, "is nested too deeply to read"),
    (b"1" * 5000, "is not valid JSON (Exceeds the limit"),
])
def test_strict_json_refuses_what_the_standard_does_not_allow(raw, reason):
    from portal.rules.datapack_rules import JSONRefused

    with pytest.raises(JSONRefused) as refused:
        strict_json(raw)
    assert refused.value.reason.startswith(reason)


def test_strict_json_takes_a_valid_pair_of_surrogates():
    assert strict_json(b'"\\ud83c\\udfbb"') == "🎻"


def test_to_json_text_is_always_valid_json():
    deep = []
    for _ in range(600):  # deeper than the standard encoder goes with an indent
        deep = [deep]
    for value in ({"x": float("nan"), "y": [float("-inf")]}, {"a\ud800": "b\udc00"}, deep, {"n": 10**400 // 10**300}):
        text = to_json_text(value, indent=2)
        parsed = json.loads(text)
        assert "NaN" not in text and "Infinity" not in text
        assert parsed is not None
    assert json.loads(to_json_text({"a\ud800": 1})) == {"a\ud800": 1}
    assert to_json_text({"é": 1}) == '{"é": 1}'


def test_copies_and_readable_copies_never_recurse():
    deep = {"x": []}
    for _ in range(5000):
        deep = {"x": [deep]}
    copied = copy_json(deep)
    assert copied is not deep and to_json_text(copied) == to_json_text(deep)
    shown = readable_copy({"name": "a\ud800", "children": [{"n\udc00": ["\ud800"]}]})
    assert shown == {"name": "a\ufffd", "children": [{"n\ufffd": ["\ufffd"]}]}
    plain = {"name": "ok"}
    assert readable_copy(plain) is plain


def test_the_node_fingerprint_survives_deep_meta_at_a_deep_call_stack():
    from portal.rules.tree_edits import node_fingerprint

    meta = {}
    for _ in range(960):
        meta = {"m": meta}
    node = data(meta=meta)

    def at_depth(frames):
        return at_depth(frames - 1) if frames else node_fingerprint(node)

    assert at_depth(200) == node_fingerprint(copy_json(node))
    assert node_fingerprint(data(name="a\ud800")) == node_fingerprint(data(name="a\ufffd"))


def test_the_portal_limits_json_nesting_in_what_it_creates():
    meta = {}
    for _ in range(MAX_NESTING):
        meta = {"m": meta}
    document = doc(container(data(meta=meta), name="IMU"))
    (problem,) = upload_problems(document)
    assert problem.kind == "portal" and problem.where == "IMU › n"
    assert problem.place == "children[0].children[0].meta"
    assert schema_problems(document) == []


def test_human_size_of_any_integer():
    from portal.rules.assets import human_size

    assert human_size(10**400) == "more than 1,000,000 GB"
    assert human_size(2**63) == "more than 1,000,000 GB"
    assert human_size(1500) == "1.5 KB"


def test_a_megabyte_of_deep_and_wide_tree_is_checked_in_linear_time():
    """400 levels of containers above 15,000 data nodes (about the document size limit), one of them
    broken: where a node is, is worked out only for the node with the problem."""
    import time

    leaves = [data(f"f{i}.json") for i in range(15_000)]
    leaves[-1]["name"] = 5
    node = container(*leaves)
    for _ in range(400):
        node = container(node)
    document = doc(node)
    started = time.process_time()
    problems = upload_problems(document)
    assert time.process_time() - started < 2
    assert [problem.kind for problem in problems] == ["schema", "portal"]  # the name, and the depth limit
