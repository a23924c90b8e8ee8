"""Properties of the datapack rules over generated trees, links and files (hypothesis)."""
from __future__ import annotations

import posixpath
import re

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from portal.rules.datapack_rules import match_links_to_files, normalize_path, schema_problems, walk_data_nodes, walk_nodes

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=12)
uuids = st.uuids().map(str)

# A path segment a user could give a file: letters (any script), digits, spaces, dots, dashes; never "." or "..".
segment = st.text(
    alphabet=st.characters(categories=("L", "Nd"), include_characters=" ._-", exclude_characters="/\\\x00"),
    min_size=1, max_size=10,
).map(str.strip).filter(lambda s: s and s.strip(".") and s == normalize_path(s))
relative_path = st.lists(segment, min_size=1, max_size=4).map("/".join)

info = st.fixed_dictionaries(
    {"name": text, "author": text, "description": text, "keywords": st.lists(text, unique=True, max_size=4)},
    optional={"id": uuids},
)


def node_fields(cls):
    return {"class": st.just(cls), "name": text, "text": text}


data_node = st.fixed_dictionaries(
    {**node_fields("data"), "link": text},
    optional={"id": uuids, "type": uuids, "mime": text,
              "meta": st.dictionaries(text, st.integers() | text, max_size=3)},
)


def containers(children):
    return st.fixed_dictionaries({**node_fields("container"), "children": st.lists(children, max_size=4)},
                                 optional={"id": uuids})


nodes = st.recursive(data_node, lambda children: containers(children) | data_node, max_leaves=20)
documents = st.fixed_dictionaries({"info": info, "children": st.lists(nodes, max_size=5)})


def follow(document, place):
    """The value a place such as ``children[1].children[0]`` leads to in the document."""
    value = document
    for key, index in re.findall(r"(\w+)\[(\d+)\]", place):
        value = value[key][int(index)]
    assert re.fullmatch(r"children\[\d+\](\.children\[\d+\])*", place), place
    return value


def all_data_nodes(nodes_):
    """Data nodes by plain recursion, to compare with the walker."""
    for node in nodes_:
        if node["class"] == "data":
            yield node
        else:
            yield from all_data_nodes(node["children"])


@SETTINGS
@given(documents)
def test_generated_valid_documents_have_no_problems(document):
    # Anything the public schema allows (empty names, any text, any link) passes repovizz2's rules.
    assert schema_problems(document) == []


@SETTINGS
@given(documents)
def test_walk_data_nodes_finds_every_data_node_at_its_place(document):
    walked = walk_data_nodes(document)
    assert [node.node for node in walked] == list(all_data_nodes(document["children"]))
    for node in walked:
        assert follow(document, node.place) is node.node
        assert node.depth == node.place.count(".")
    places = [node.place for node in walk_nodes(document)]
    assert len(places) == len(set(places))


REQUIRED = {"data": ("class", "name", "text", "link"), "container": ("class", "name", "text", "children")}


@SETTINGS
@given(documents.filter(lambda d: any(True for _ in walk_nodes(d))), st.data())
def test_deleting_a_required_key_is_one_problem_at_that_node(document, draw):
    tree = list(walk_nodes(document))
    target = draw.draw(st.sampled_from(tree), label="node")
    key = draw.draw(st.sampled_from(REQUIRED[target.node["class"]]), label="key")
    del target.node[key]
    assert [(problem.place, problem.message) for problem in schema_problems(document)] == [
        (target.place, f"{key!r} is required")]


@SETTINGS
@given(documents, st.sampled_from(["info", "children"]))
def test_deleting_a_top_level_key_is_one_problem_at_the_document(document, key):
    del document[key]
    if document:
        assert [(problem.where, problem.message) for problem in schema_problems(document)] == [
            ("the document", f"{key!r} is required")]
    else:  # neither 'info' nor 'children' left: not a datapack at all
        assert "does not look like a datapack document" in schema_problems(document)[0]


@SETTINGS
@given(documents, st.sampled_from(["name", "author", "description", "keywords"]))
def test_deleting_an_info_key_is_one_problem_at_info(document, key):
    del document["info"][key]
    assert [(problem.place, problem.message) for problem in schema_problems(document)] == [
        ("info", f"{key!r} is required")]


@SETTINGS
@given(st.lists(relative_path, min_size=1, max_size=12, unique=True), st.sampled_from(["", "pack/", "My Pack ✓/"]),
       st.randoms(use_true_random=False))
def test_distinct_paths_used_as_links_match_their_own_files(paths, prefix, random):
    # The same files, as the links name them and as a (folder) upload sends them, in any order.
    files = [prefix + path for path in paths]
    random.shuffle(files)
    match = match_links_to_files(paths, files)
    assert match.problems == []
    assert match.matched == {path: prefix + path for path in paths}


names = st.sampled_from(["a.json", "b.wav", "emg 2.json", "señal.csv"])
folders = st.sampled_from(["", "x/", "y/", "x/y/", "pack/", "pack/x/"])
generated_paths = st.builds(lambda folder, name: folder + name, folders, names)


@SETTINGS
@given(st.lists(generated_paths, max_size=8), st.lists(generated_paths, max_size=8))
def test_every_file_is_exactly_one_of_matched_contested_ambiguous_or_unreferenced(links, files):
    match = match_links_to_files(links, files)
    sent = {normalize_path(path) for path in files}
    matched = set(match.matched.values())
    contested = set(match.contested)
    candidates = {path for group in match.ambiguous.values() for path in group}
    unreferenced = set(match.unreferenced)
    # no file is matched to two links
    assert len(matched) == len(match.matched)
    # a partition of the files sent
    assert matched | contested | candidates | unreferenced == sent
    assert sum(map(len, (matched, contested, candidates, unreferenced))) == len(sent)
    assert len(match.unreferenced) == len(unreferenced)
    # every link is exactly one of matched, missing, ambiguous, or one of a contested file's links
    contesting = {link for group in match.contested.values() for link in group}
    kinds = [set(match.matched), set(match.missing), set(match.ambiguous), contesting]
    assert set().union(*kinds) == set(links)
    assert sum(map(len, kinds)) == len(set(links))
    for group in match.ambiguous.values():
        assert len(group) > 1
    for group in match.contested.values():
        assert len(group) > 1
    # a match always names the same file (a name match at least shares the file name)
    for link, path in match.matched.items():
        assert posixpath.basename(path) == posixpath.basename(normalize_path(link))


@SETTINGS
@given(st.lists(generated_paths, max_size=8), st.lists(generated_paths, max_size=8), st.randoms(use_true_random=False))
def test_matching_does_not_depend_on_the_order_files_come_in(links, files, random):
    first = match_links_to_files(links, files)
    shuffled = list(files)
    random.shuffle(shuffled)
    assert match_links_to_files(links, shuffled) == first


@SETTINGS
@given(st.lists(generated_paths, min_size=1, max_size=8, unique=True))
def test_files_sent_for_exactly_the_links_match_with_no_problem(paths):
    assume(len({normalize_path(path) for path in paths}) == len(paths))
    match = match_links_to_files(paths, reversed(paths))
    assert match.matched == {path: path for path in paths}
    assert match.problems == []
