"""The datatype suggested from a file's names, media type and channels, and the channel count read from
its start. The cases are shared with the browser's copy of the rule (tests/js/datatype-suggestion.test.mjs)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from portal.rules.datatype_catalog import BUILT_IN_DIR, load_catalog
from portal.rules import datatype_suggestion
from portal.rules.datatype_suggestion import count_channels, suggest_datatype

CASES = json.loads((Path(__file__).resolve().parents[1] / "cases" / "datatype-suggestions.json").read_text())


@pytest.mark.parametrize("case", CASES["suggest"], ids=lambda case: f"{case['names']}-{case['channels']}")
def test_a_datatype_is_suggested_from_names_media_type_and_channels(case):
    suggestion = suggest_datatype(*case["names"], mime=case["mime"], channels=case["channels"])
    if case["expect"] is None:
        assert suggestion is None
    else:
        assert suggestion.datatype_id == getattr(datatype_suggestion, case["expect"])
        assert suggestion.reason == case["reason"]


@pytest.mark.parametrize("case", CASES["channels"], ids=lambda case: case["why"])
def test_channels_are_counted_from_the_start_of_a_file(case):
    assert count_channels(case["head"], complete=case["complete"]) == case["expect"]


def test_every_suggested_datatype_is_built_in_with_the_channels_the_rule_expects():
    catalog = load_catalog(BUILT_IN_DIR)
    for datatype_id, channels, _ in datatype_suggestion.NAMED:
        assert len(catalog.find(datatype_id).channels) == channels
    assert catalog.find(datatype_suggestion.VIDEO).media == "video"
    assert catalog.find(datatype_suggestion.AUDIO) is not None
