"""repovizz2's rules as the project's own JSON Schema (portal/rules/repovizz2_rules.py): the schema is
valid JSON Schema, the level-by-level walk gives the whole schema's verdict on every document of the
contract corpus, and trees and values nested deeper than any recursion get theirs without breaking."""
from __future__ import annotations

import json

import pytest
from jsonschema import Draft202012Validator

from portal.rules.repovizz2_rules import DATAPACK_SCHEMA, schema_problems
from tests.contract.corpus import ACCEPTED, REFUSED

CORPUS = {**ACCEPTED, **REFUSED}
INFO = {"name": "Trial", "author": "ana", "description": "", "keywords": []}


def test_the_rules_are_a_valid_json_schema():
    Draft202012Validator.check_schema(DATAPACK_SCHEMA)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_walk_gives_the_whole_schemas_verdict(name):
    document = CORPUS[name]
    assert Draft202012Validator(DATAPACK_SCHEMA).is_valid(document) == (schema_problems(document) == [])


def test_keywords_that_are_the_same_json_value_repeat_whatever_their_key_order():
    document = {"info": {**INFO, "keywords": [{"a": 1, "b": 2}, {"b": 2, "a": 1}]}, "children": []}
    assert [(problem.message, problem.place) for problem in schema_problems(document)] == [
        ("keyword 1 must be of type string, not object", "info.keywords[0]"),
        ("keyword 2 must be of type string, not object", "info.keywords[1]"),
        ("'keywords' must not repeat a value", "info.keywords"),
    ]


def test_a_tree_deeper_than_python_can_recurse_is_checked_to_its_last_node():
    document = {"info": INFO, "children": []}
    children = document["children"]
    for level in range(5000):
        node = {"class": "container", "name": f"level {level}", "text": "", "children": []}
        children.append(node)
        children = node["children"]
    children.append({"class": "data", "name": "bottom", "text": "", "link": 5})
    (problem,) = schema_problems(document)
    assert problem.message == "'link' must be of type string, not integer"
    assert problem.place == ".".join(["children[0]"] * 5001) + ".link"


def test_values_nested_as_deep_as_json_parses_are_judged_by_their_type():
    deep = json.loads("[" * 900 + "]" * 900)
    document = {"info": {**INFO, "keywords": [deep, json.loads("[" * 900 + "]" * 900), "emg"]},
                "children": [{"class": "data", "name": deep, "text": "", "link": "a.wav", "meta": deep}]}
    assert [(problem.message, problem.place) for problem in schema_problems(document)] == [
        ("keyword 1 must be of type string, not array", "info.keywords[0]"),
        ("keyword 2 must be of type string, not array", "info.keywords[1]"),
        ("'keywords' must not repeat a value", "info.keywords"),
        ("'name' must be of type string, not array", "children[0].name"),
        ("'meta' must be of type object, not array", "children[0].meta"),
    ]
