"""The builder's proposal, pure: whatever the paths, a document that passes the datapack rules."""
from __future__ import annotations

import contextlib
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.rules.document_builder import (apply_action, apply_edits, guess_mime, keywords_from, propose, propose_document,
                            readable_name)
from portal.rules.datapack_rules import MAX_DEPTH, document_problems, link_problems, walk_data_nodes, walk_nodes
from portal.rules.assets import Asset, Limits
from portal.services.upload_pipeline import plan_upload

EXAMPLE = [
    ("pack/setup.png", "image/png"),
    ("pack/audio/tone.wav", "audio/wav"),
    ("pack/sensors/accelerometer.json", ""),
    ("pack/sensors/emg 2.json", "application/json"),
    ("pack/notes_v2.csv", ""),
]


def assets_for(paths):
    return [Asset(path, 10, lambda: contextlib.nullcontext(io.BytesIO(b"x" * 10))) for path in paths]


def test_one_container_per_folder_one_data_node_per_file():
    document = propose_document(EXAMPLE, {"author": "ana"})
    assert document_problems(document) == []
    assert [(node.place, node.name, node.node.get("class")) for node in walk_nodes(document)] == [
        ("children[0]", "Notes v2", "data"),
        ("children[1]", "Setup", "data"),
        ("children[2]", "Audio", "container"),
        ("children[2].children[0]", "Tone", "data"),
        ("children[3]", "Sensors", "container"),
        ("children[3].children[0]", "Accelerometer", "data"),
        ("children[3].children[1]", "Emg 2", "data"),
    ]
    links = {node.name: (node.link, node.mime) for node in walk_data_nodes(document)}
    assert links == {
        "Notes v2": ("notes_v2.csv", "text/csv"),
        "Setup": ("setup.png", "image/png"),
        "Tone": ("audio/tone.wav", "audio/wav"),
        "Accelerometer": ("sensors/accelerometer.json", "application/json"),
        "Emg 2": ("sensors/emg 2.json", "application/json"),
    }


def test_info_defaults_to_the_folder_and_the_author_given():
    proposal = propose(EXAMPLE, {"keywords": "emg, audio,, emg"}, default_author="ana")
    assert proposal.folder == "pack"
    assert proposal.document["info"] == {"name": "Pack", "author": "ana", "description": "", "keywords": ["emg", "audio"]}
    named = propose_document(EXAMPLE, {"name": "  My  session ", "author": "Bo", "description": "x\ny"})
    assert named["info"] == {"name": "My session", "author": "Bo", "description": "x\ny", "keywords": []}


def test_files_chosen_one_by_one_keep_their_names():
    proposal = propose([("b.wav", ""), ("a.mp4", "video/mp4")])
    assert proposal.folder == ""
    assert proposal.document["info"]["name"] == "New datapack"
    assert [node.link for node in walk_data_nodes(proposal.document)] == ["a.mp4", "b.wav"]


def test_names_with_spaces_and_unicode():
    document = propose_document([("Sessió 1/müsik über_alles.wav", ""), ("Sessió 1/日本 語.json", ""),
                                 ("Sessió 1/take 10.wav", ""), ("Sessió 1/take 2.wav", "")])
    assert document_problems(document) == [] and link_problems(document) == []
    assert document["info"]["name"] == "Sessió 1"
    names = [node.name for node in walk_data_nodes(document)]
    assert names == ["Müsik über alles", "Take 2", "Take 10", "日本 語"]
    assert [node.link for node in walk_data_nodes(document)][0] == "müsik über_alles.wav"


def test_decomposed_unicode_is_composed():
    document = propose_document([("cafe\u0301.wav", "")])
    assert walk_data_nodes(document)[0].link == "caf\u00e9.wav"


def test_nested_folders_become_nested_containers():
    document = propose_document([("root/a/b/c/deep.json", ""), ("root/a/top.json", "")])
    (a,) = document["children"]
    assert a["class"] == "container" and a["name"] == "A"
    assert [child["name"] for child in a["children"]] == ["Top", "B"]
    assert a["children"][1]["children"][0]["children"][0]["link"] == "a/b/c/deep.json"


def test_unusable_paths_are_skipped_and_said_why():
    proposal = propose([("pack/.DS_Store", ""), ("pack/ok.wav", ""), ("pack/ok.wav", ""), ("../evil", ""),
                        ("", ""), ("/abs/x.wav", ""), ("pack/__MACOSX/._ok.wav", "")])
    # "/abs/x.wav" is read as relative (a leading slash is dropped), so there is no common folder here.
    assert [node.link for node in walk_data_nodes(proposal.document)] == ["abs/x.wav", "pack/ok.wav"]
    assert dict(propose([("repovizz:abc", "")]).skipped) == {
        "repovizz:abc": "has a name that starts with 'repovizz:', like an uploaded file"}
    assert dict(propose([("pack/ ", ""), ("pack/a.wav", "")]).skipped) == {"pack/ ": "is empty"}
    reasons = dict(proposal.skipped)
    assert reasons["pack/.DS_Store"] == "is a file the system adds by itself"
    assert reasons["pack/ok.wav"] == "was chosen twice"
    assert reasons["../evil"] == "goes up a folder with '..'"
    assert reasons[""] == "has no name"
    assert document_problems(proposal.document) == [] and link_problems(proposal.document) == []


@pytest.mark.parametrize("documents", [{"pack/datapack.json"}, {"pack/./datapack.json"}, {"pack\\datapack.json"}])
def test_a_datapack_document_among_the_files_is_no_data_node(documents):
    proposal = propose([("pack/datapack.json", "application/json"), ("pack/emg.json", "")], documents=documents)
    assert [node.link for node in walk_data_nodes(proposal.document)] == ["emg.json"]
    assert proposal.skipped == [("pack/datapack.json", "is a datapack document, not a data file (to upload it "
                                                       "with its files as they are, use Upload)")]


def test_channels_counted_by_path_are_kept_by_link():
    proposal = propose([("pack/emg 2.csv", ""), ("pack/a/acc.json", ""), ("pack/notes.txt", "")],
                       channels={"pack/emg 2.csv": 8, "pack/./a/acc.json": 3, "elsewhere.csv": 2})
    assert proposal.channels == {"emg 2.csv": 8, "a/acc.json": 3}


def test_too_deep_folders_are_folded_into_the_last_container():
    path = "/".join(f"f{i}" for i in range(60)) + "/leaf.json"
    document = propose_document([(path, "")])
    assert document_problems(document) == []
    deepest = max(node.depth for node in walk_nodes(document))
    assert deepest == MAX_DEPTH - 1
    assert walk_data_nodes(document)[0].link == path.split("/", 1)[1]


def test_readable_names_and_types():
    assert readable_name("emg_2.json") == "Emg 2"
    assert readable_name("Set-up.png") == "Set-up"
    assert readable_name("EMG.csv") == "EMG"
    assert readable_name("iPhone video.mov") == "iPhone video"
    assert readable_name(".hidden") == ".hidden"
    assert readable_name("___.txt") == "___.txt"
    assert readable_name("archive.tar.gz") == "Archive.tar"
    assert guess_mime("a.csv") == "text/csv"
    assert guess_mime("a.bin", "application/octet-stream") == "application/octet-stream"
    assert guess_mime("a.wav", "audio/x-wav") == "audio/x-wav"
    assert guess_mime("noext") == ""
    assert keywords_from(["a", "a", " b ", 3]) == ["a", "b"]


def test_the_edit_form_changes_info_and_nodes():
    document = propose_document(EXAMPLE)
    edited = apply_edits(document, {"info-name": "Session 3", "info-keywords": "x, y", "info-author": "ana",
                                    "node-name:children[2]": "Microphone", "node-text:children[2].children[0]": " 440 Hz ",
                                    "node-name:children[9]": "ignored", "node-name:children[1]": "   "})
    assert edited["info"]["name"] == "Session 3" and edited["info"]["keywords"] == ["x", "y"]
    assert edited["children"][2]["name"] == "Microphone"
    assert edited["children"][2]["children"][0]["text"] == "440 Hz"
    assert edited["children"][1]["name"] == "Setup"  # a blank name keeps the old one
    assert document["children"][2]["name"] == "Audio"  # the original is left alone
    assert apply_edits(document, {"info-name": "  "})["info"]["name"] == "Pack"  # a datapack needs a name


def test_move_and_drop_actions():
    document = propose_document(EXAMPLE)
    moved, place = apply_action(document, "down:children[0]")
    assert place == "children[1]" and moved["children"][1]["name"] == "Notes v2"
    moved, place = apply_action(moved, "up:children[1]")
    assert place == "children[0]" and moved["children"][0]["name"] == "Notes v2"
    same, place = apply_action(document, "up:children[0]")
    assert same == document and place == "children[0]"
    dropped, _ = apply_action(document, "drop:children[3]")
    assert [node.name for node in walk_nodes(dropped)] == ["Notes v2", "Setup", "Audio", "Tone"]
    for nonsense in ("", "explode:children[0]", "drop:children[99]", "drop:info", "up:"):
        assert apply_action(document, nonsense) == (document, None)


# What a person types in a field: any text but control characters (refused with a message, tested apart).
typed = st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs")), max_size=20)
path_parts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
paths = st.lists(path_parts, min_size=1, max_size=6).map("/".join)
mimes = st.sampled_from(["", "audio/wav", "application/json", "video/mp4", "application/octet-stream", "x"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(paths, mimes), max_size=25), st.dictionaries(
    st.sampled_from(["name", "author", "description", "keywords"]), typed))
def test_any_paths_give_a_valid_document_whose_links_match_the_files(chosen, info):
    proposal = propose(chosen, info)
    document = proposal.document
    assert document_problems(document) == []
    assert link_problems(document) == []
    links = [node.link for node in walk_data_nodes(document)]
    assert len(links) + len(proposal.skipped) == len(chosen)
    if links:
        # The files, as the script sends them (named by link) or chosen again (paths inside the folder).
        plan = plan_upload(document, assets_for(links), Limits(max_files=1000, max_asset_bytes=100))
        assert sorted(plan) == sorted(links)
        assert all(plan[link].path == link for link in links)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(paths, mimes), min_size=1, max_size=12),
       st.lists(st.tuples(st.sampled_from(["up", "down", "drop", "name", "text", "info"]),
                          st.integers(0, 30), typed), max_size=12))
def test_editing_a_proposal_keeps_it_valid(chosen, steps):
    document = propose_document(chosen)
    for verb, pick, value in steps:
        places = [node.place for node in walk_nodes(document)]
        if not places:
            break
        place = places[pick % len(places)]
        if verb in ("up", "down", "drop"):
            document, _ = apply_action(document, f"{verb}:{place}")
        elif verb == "info":
            document = apply_edits(document, {"info-name": value, "info-keywords": value, "info-author": value})
        else:
            document = apply_edits(document, {f"node-{verb}:{place}": value})
        assert document_problems(document) == [] and link_problems(document) == []
        assert document["info"]["name"]


def test_the_edit_form_picks_a_data_nodes_datatype():
    accelerometer, emg = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc", "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
    document = {"info": {"name": "Pack", "author": "", "description": "", "keywords": []}, "children": [
        {"class": "data", "name": "A", "text": "", "link": "a.json"},
        {"class": "data", "name": "B", "text": "", "link": "b.json", "type": f"urn:uuid:{emg}"},
        {"class": "container", "name": "C", "text": "", "children": []},
    ]}
    known = [accelerometer, emg]
    typed = apply_edits(document, {"node-type:children[0]": accelerometer}, known)
    assert typed["children"][0]["type"] == accelerometer and "type" not in document["children"][0]
    assert "type" not in apply_edits(typed, {"node-type:children[0]": ""}, known)["children"][0]  # none removes it
    # A type not among the known ones is ignored; the node's own type, as stored, is kept as it is.
    assert "type" not in apply_edits(document, {"node-type:children[0]": "made-up"}, known)["children"][0]
    assert apply_edits(document, {"node-type:children[1]": f"urn:uuid:{emg}"}, known)["children"][1]["type"] == \
        f"urn:uuid:{emg}"
    assert apply_edits(document, {"node-type:children[1]": accelerometer}, known)["children"][1]["type"] == accelerometer
    assert "type" not in apply_edits(document, {"node-type:children[2]": emg}, known)["children"][2]  # not a data node
    assert apply_edits(document, {}, known)["children"][1]["type"] == f"urn:uuid:{emg}"  # no field: left alone
