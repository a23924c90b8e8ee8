"""Datatypes: the public examples built in, a lab's own folder, bad files refused at start."""
from __future__ import annotations

import copy
import html
import json
import os
import re

import pytest

from portal import create_app
from portal.rules.config import ConfigError
from portal.rules.datatype_catalog import BUILT_IN_DIR, MAX_DATATYPE_BYTES, DatatypeInvalid, datatype_from, load_catalog

ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
LAB_DATATYPE = {
    "datatypeID": "0f0e0d0c-0b0a-4909-8807-060504030201", "name": "Force plate", "owner": "lab",
    "description": "Ground reaction force", "tags": ["force"],
    "datatype": {"lattice": {"primary_dimensions": {"label": "time", "units": "seconds", "resolution": 1000},
                             "secondary_dimensions": {"label": "force", "units": "N", "type": "float"},
                             "channels": [{"label": "Fz"}]}},
}


def test_the_public_example_datatypes_are_built_in():
    catalog = load_catalog(BUILT_IN_DIR)
    accelerometer = catalog.find(ACCELEROMETER)
    assert accelerometer.name == "3-axis accelerometer"
    assert (accelerometer.kind, accelerometer.rate, accelerometer.channels, accelerometer.units) == (
        "lattice", 200, ("X", "Y", "Z"), "g")
    assert catalog.find("48e3b5d2-c34c-459c-9a2d-0756c20d80de").value_range == (-1.0, 1.0)
    assert catalog.find("68cd3fb2-6f76-4790-b432-c9c49ebaffee").kind == "sparse"


@pytest.mark.parametrize(("datatype_id", "name", "channels"), [
    ("35524338-dec5-40ca-a099-1fff42fb5460", "3-axis gyroscope", ("X", "Y", "Z")),
    ("d4445fc6-0af0-42e0-979e-74a62b70b2ed", "Orientation (roll, pitch, yaw)", ("Roll", "Pitch", "Yaw")),
    ("e44ab9c4-a1b5-4474-b806-ece64555ef2b", "Video", ("frame",)),
])
def test_orientation_and_video_have_the_ids_the_real_server_stores(datatype_id, name, channels):
    catalog = load_catalog(BUILT_IN_DIR)
    assert catalog.notes == []  # every built-in id is declared once
    datatype = catalog.find(datatype_id)
    assert (datatype.name, datatype.channels) == (name, channels)


def test_the_video_datatype_is_played_not_charted():
    catalog = load_catalog(BUILT_IN_DIR)
    assert catalog.find("e44ab9c4-a1b5-4474-b806-ece64555ef2b").media == "video"
    assert catalog.find(ACCELEROMETER).media == ""


def test_an_id_declared_twice_is_reported_not_fatal(tmp_path):
    folder = tmp_path / "datatypes"
    folder.mkdir()
    (folder / "my-accelerometer.json").write_text(json.dumps(dict(LAB_DATATYPE, datatypeID=ACCELEROMETER)))
    catalog = load_catalog(BUILT_IN_DIR, str(folder))
    (note,) = catalog.notes
    assert f"datatype id {ACCELEROMETER} is declared twice" in note
    assert catalog.find(ACCELEROMETER).name == "3-axis accelerometer"


@pytest.mark.parametrize("type_value, found", [
    (ACCELEROMETER, True),
    (f"urn:uuid:{ACCELEROMETER}", True),  # the public schema's pattern is unanchored
    (ACCELEROMETER.upper(), False),
    ("not a uuid", False),
    (None, False),
    (42, False),
])
def test_a_node_type_names_a_datatype_by_the_uuid_it_holds(type_value, found):
    assert (load_catalog(BUILT_IN_DIR).find(type_value) is not None) == found


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("name"), "'name' is a required property"),
    (lambda d: d.update(datatypeID="force-plate"), "datatypeID: 'force-plate' does not match"),
    (lambda d: d.update(datatype={"lattice": {}, "sparse": {}}), "datatype: "),
    (lambda d: d["datatype"]["lattice"].update(channels=[]), "channels: [] should be non-empty"),
    (lambda d: d["datatype"]["lattice"]["primary_dimensions"].update(resolution=0), "resolution: 0 is less than"),
    (lambda d: d.update(tags=["a", "a"]), "tags: ['a', 'a'] has non-unique elements"),
])
def test_a_bad_datatype_is_refused_saying_where(change, message):
    document = copy.deepcopy(LAB_DATATYPE)
    change(document)
    with pytest.raises(DatatypeInvalid) as refused:
        datatype_from(document, "lab/force.json")
    assert str(refused.value).startswith("lab/force.json: ")
    assert message in str(refused.value)


def _app(tmp_path, folder):
    return create_app({"TESTING": True, "SECRET_KEY": "t", "CLIENT_ID": "i", "CLIENT_SECRET": "s",
                       "SESSION_DIR": str(tmp_path / "sessions"), "DATATYPES_DIR": str(folder)})


def test_a_labs_own_datatypes_come_from_a_folder(tmp_path):
    folder = tmp_path / "datatypes"
    folder.mkdir()
    (folder / "force.json").write_text(json.dumps(LAB_DATATYPE))
    (folder / "notes.txt").write_text("not a datatype")
    catalog = _app(tmp_path, folder).extensions["datatypes"]
    assert catalog.find(LAB_DATATYPE["datatypeID"]).channels == ("Fz",)
    assert catalog.find(ACCELEROMETER) is not None


def test_a_bad_datatype_file_stops_the_portal_naming_it(tmp_path):
    folder = tmp_path / "datatypes"
    folder.mkdir()
    (folder / "broken.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"PORTAL_DATATYPES_DIR: .*broken\.json: is not valid JSON"):
        _app(tmp_path, folder)
    with pytest.raises(ConfigError, match="is not a folder of datatype files"):
        _app(tmp_path, tmp_path / "missing")


def test_a_typed_node_shows_its_datatype_and_is_charted_with_its_axes(client, auth, repovizz2):
    """The public example's sensor files are text/plain with a repovizz: link: the datatype makes them a chart."""
    file_id = "d" * 40
    repovizz2.datapacks["dp-1"] = {"id": "dp-1", "name": "MYO", "owner": 1, "folder": None, "group_edit_permissions": [],
                                   "structure": {"info": {"name": "MYO", "author": "", "description": "", "keywords": []},
                                                 "children": [{"class": "data", "name": "Accelerometer", "text": "",
                                                               "link": f"repovizz:{file_id}", "type": ACCELEROMETER,
                                                               "mime": "text/plain; charset=us-ascii"}]}}
    auth.login()
    page = client.get("/datapacks/dp-1").get_data(as_text=True)
    assert "3-axis accelerometer" in page
    (settings,) = re.findall(r'data-chart-settings="([^"]+)"', page)
    settings = json.loads(html.unescape(settings))
    assert settings == {"name": "3-axis accelerometer", "rate": 200, "channels": ["X", "Y", "Z"], "units": "g",
                        "range": None}


@pytest.mark.parametrize(("mime", "figure"), [
    ("text/plain; charset=us-ascii", "maybe"),  # the public example's sensor files, untyped
    ("", "maybe"),
    ("application/octet-stream", "maybe"),
    ("application/ld+json", "maybe"),
    ("text/tab-separated-values", "chart"),  # charted by its type, as before
    ("application/json", "chart"),
    ("video/mp4", None),
    ("application/pdf", None),
    ("image/svg+xml", None),
    ({"not": "a string"}, "maybe"),  # whatever repovizz2 holds, the page shows
])
def test_an_untyped_file_whose_type_says_nothing_may_be_charted_by_its_content(client, auth, repovizz2, mime, figure):
    file_id = "e" * 40
    node = {"class": "data", "name": "Stream", "text": "", "link": f"repovizz:{file_id}", "mime": mime}
    repovizz2.datapacks["dp-2"] = {"id": "dp-2", "name": "Raw", "owner": 1, "folder": None, "group_edit_permissions": [],
                                   "structure": {"info": {"name": "Raw", "author": "", "description": "", "keywords": []},
                                                 "children": [node]}}
    auth.login()
    page = client.get("/datapacks/dp-2").get_data(as_text=True)
    src = f'data-chart-src="/datapacks/dp-2/content/{file_id}?inline=1"'
    maybe = re.search(r'<figure class="chart maybe" ' + re.escape(src) + r' data-chart-name="Stream" data-chart-maybe>', page)
    chart = f'<figure class="chart" {src}' in page
    assert (bool(maybe), chart) == (figure == "maybe", figure == "chart")


def test_a_node_typed_video_without_a_media_type_is_played(client, auth, repovizz2):
    file_id = "f" * 40
    node = {"class": "data", "name": "Camera", "text": "", "link": f"repovizz:{file_id}",
            "type": "e44ab9c4-a1b5-4474-b806-ece64555ef2b"}
    repovizz2.datapacks["dp-3"] = {"id": "dp-3", "name": "Film", "owner": 1, "folder": None, "group_edit_permissions": [],
                                   "structure": {"info": {"name": "Film", "author": "", "description": "", "keywords": []},
                                                 "children": [node]}}
    auth.login()
    page = client.get("/datapacks/dp-3").get_data(as_text=True)
    assert f'<video controls preload="metadata" src="/datapacks/dp-3/content/{file_id}?inline=1"' in page
    assert "data-chart-src" not in page
