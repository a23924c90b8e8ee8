"""Edit helpers, pure: nodes addressed by their place, every change made on a copy."""
from __future__ import annotations

import copy

import pytest

from portal.rules.datapack_rules import document_problems, walk_nodes
from portal.rules.tree_edits import (MAX_PLACE_DEPTH, EditError, LinkTaken, NodeNotFound, add_node, container_places, data_node,
                               describe, free_link, move_node, node_at, parse_place, put_node, remove_node, set_info,
                               set_node_link, set_node_mime, set_node_name, set_node_text, set_node_type, shares_link)

DOCUMENT = {
    "info": {"name": "MYO", "author": "ana", "description": "", "keywords": []},
    "children": [
        {"class": "data", "name": "Video", "text": "cam", "link": "repovizz:" + "a" * 40, "meta": {"mime": "video/mp4"}},
        {"class": "container", "name": "IMU", "text": "imu", "children": [
            {"class": "data", "name": "EMG", "text": "emg", "link": "emg 2.json"},
            {"class": "container", "name": "Empty", "text": "", "children": []},
        ]},
    ],
}


@pytest.fixture
def document():
    return copy.deepcopy(DOCUMENT)


def test_places_parse_strictly():
    assert parse_place("children[1].children[0]") == [1, 0]
    for bad in ("", "children", "children[]", "children[01]", "children[-1]", "info", "children[0].name",
                "children[0]children[1]", "children[0].", None, 3, "children[9999999]"):
        with pytest.raises(NodeNotFound):
            parse_place(bad)


def test_node_at(document):
    assert node_at(document, "children[1].children[0]")["name"] == "EMG"
    assert node_at(document, "children[1]")["name"] == "IMU"
    for missing in ("children[2]", "children[0].children[0]", "children[1].children[5]",
                    "children[1].children[1].children[0]"):
        with pytest.raises(NodeNotFound, match="there is no node at"):
            node_at(document, missing)


def test_remove_a_data_node_and_a_container(document):
    without_emg = remove_node(document, "children[1].children[0]")
    assert [node.name for node in walk_nodes(without_emg)] == ["Video", "IMU", "Empty"]
    without_imu = remove_node(document, "children[1]")
    assert [node.name for node in walk_nodes(without_imu)] == ["Video"]
    everything = remove_node(remove_node(document, "children[1]"), "children[0]")
    assert everything["children"] == [] and document_problems(everything) == []
    assert document == DOCUMENT  # untouched


def test_set_name_and_text(document):
    edited = set_node_text(set_node_name(document, "children[1].children[0]", "EMG forearm"),
                           "children[1].children[0]", "two electrodes")
    assert node_at(edited, "children[1].children[0]") == {"class": "data", "name": "EMG forearm",
                                                           "text": "two electrodes", "link": "emg 2.json"}
    assert document == DOCUMENT
    with pytest.raises(EditError):
        set_node_name(document, "children[0]", 42)


def test_set_mime_also_where_the_server_moved_it(document):
    edited = set_node_mime(document, "children[0]", "video/webm")
    assert edited["children"][0]["mime"] == "video/webm"
    assert edited["children"][0]["meta"] == {"mime": "video/webm"}
    with pytest.raises(EditError, match="not a data node"):
        set_node_mime(document, "children[1]", "x/y")


def test_move_clamps_at_either_end(document):
    moved, place = move_node(document, "children[1].children[0]", 1)
    assert place == "children[1].children[1]"
    assert [c["name"] for c in moved["children"][1]["children"]] == ["Empty", "EMG"]
    same, place = move_node(document, "children[0]", -1)
    assert same == document and place == "children[0]"
    last, place = move_node(document, "children[0]", 5)
    assert place == "children[1]" and last["children"][1]["name"] == "Video"


def test_add_a_data_node_at_the_top_or_in_a_container(document):
    added, place = add_node(document, data_node("Audio", "mic", "take 1.wav", "audio/wav"))
    assert place == "children[2]"
    assert added["children"][2] == {"class": "data", "name": "Audio", "text": "mic", "link": "take 1.wav",
                                    "mime": "audio/wav"}
    inside, place = add_node(document, data_node("Gyro", "", "gyro.json"), "children[1].children[1]")
    assert place == "children[1].children[1].children[0]"
    assert node_at(inside, place)["link"] == "gyro.json" and "mime" not in node_at(inside, place)
    assert document_problems(inside) == []
    assert document == DOCUMENT


def test_adding_refuses_a_taken_or_unsafe_link(document):
    with pytest.raises(LinkTaken, match="already waits for a file called 'emg 2.json'"):
        add_node(document, data_node("Again", "", "emg 2.json"))
    for link, why in (("../x", "goes up"), ("", "is empty"), ("/etc/passwd", "absolute"),
                      ("repovizz:" + "b" * 40, "reference")):
        with pytest.raises(EditError, match=why):
            add_node(document, data_node("X", "", link))
    with pytest.raises(EditError, match="not a container"):
        add_node(document, data_node("X", "", "x.wav"), "children[0]")


def test_containers_info_and_descriptions(document):
    assert container_places(document) == [("children[1]", "IMU"), ("children[1].children[1]", "Empty")]
    assert set_info(document, name="New")["info"]["name"] == "New" and document["info"]["name"] == "MYO"
    assert describe(document["children"][0]) == 'data node "Video"'
    assert describe(document["children"][1]) == 'container "IMU" with 1 data node'
    assert describe(document["children"][1]["children"][1]) == 'container "Empty"'


def test_a_long_place_is_refused_without_being_repeated_in_full():
    deepest = ".".join(["children[0]"] * MAX_PLACE_DEPTH)  # as deep as the datapack page offers edits
    assert parse_place(deepest) == [0] * MAX_PLACE_DEPTH
    for long in (".".join(["children[999999]"] * (MAX_PLACE_DEPTH + 1)), "x" * 100_000,
                 "children[0]." * 10_000 + "children[0]"):
        with pytest.raises(NodeNotFound, match="is not the place of a node") as refused:
            parse_place(long)
        assert len(str(refused.value)) < 100


def test_a_node_put_in_place_and_its_link_and_type_set(document):
    replaced = put_node(document, "children[1].children[0]", {"class": "data", "name": "X", "text": "", "link": "x.csv"})
    assert node_at(replaced, "children[1].children[0]")["name"] == "X"
    assert node_at(document, "children[1].children[0]")["name"] == "EMG"  # the argument is left alone
    relinked = set_node_link(document, "children[0]", "video.mp4")
    assert node_at(relinked, "children[0]")["link"] == "video.mp4" and document["children"][0]["link"] != "video.mp4"
    typed = set_node_type(document, "children[1].children[0]", "0746bb48-9b92-4cd3-8d9e-3e1de13269eb")
    assert node_at(typed, "children[1].children[0]")["type"] == "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
    assert "type" not in node_at(set_node_type(typed, "children[1].children[0]", ""), "children[1].children[0]")
    assert "type" not in node_at(set_node_type(document, "children[0]", ""), "children[0]")  # nothing to remove
    for change in (lambda: set_node_link(document, "children[1]", "x"), lambda: set_node_type(document, "children[1]", "x")):
        with pytest.raises(EditError, match="is not a data node"):
            change()


def test_shared_links_and_a_free_link(document):
    shared = copy.deepcopy(document)
    shared["children"].append({"class": "data", "name": "Same video", "text": "", "link": "repovizz:" + "a" * 40})
    assert shares_link(shared, "children[0]") and shares_link(shared, "children[2]")
    assert not shares_link(shared, "children[1].children[0]")
    assert free_link(document, "take 2.wav") == "take 2.wav"
    assert free_link(document, "C:\\recordings\\emg 2.json") == "emg 2 (2).json"  # taken, and no folders kept
    taken = copy.deepcopy(document)
    taken["children"].append({"class": "data", "name": "E", "text": "", "link": "emg 2 (2).json"})
    assert free_link(taken, "emg 2.json") == "emg 2 (3).json"
    assert free_link(document, "") == "file" and free_link(document, "..") == "file"
    assert free_link(document, "repovizz:" + "b" * 40) == "file"
    assert free_link(document, ".hidden") == ".hidden"
