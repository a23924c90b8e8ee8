"""Datatypes: how to read a data node's file, named by the node's `type`.

A datatype document says, for continuous ("lattice") data, its sample rate, channel labels, units
and value range, and for event ("sparse") data its dimensions. The portal knows the public example
datatypes (`portal/datatypes/`) and a lab's own (a folder set by ``PORTAL_DATATYPES_DIR``). Pure:
no Flask.
"""
from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from .datapack_rules import JSONRefused, strict_json

# The public examples live in the portal package, beside `example/`.
BUILT_IN_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datatypes")
MEDIA = ("video", "audio")  # what ``extra.media`` may name
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

_DIMENSION = {
    "type": "object",
    "required": ["label"],
    "properties": {
        "label": {"type": "string"},
        "units": {"type": "string"},
        "resolution": {"type": "number", "exclusiveMinimum": 0},
        "description": {"type": "string"},
        "type": {"type": "string"},
        "range": {"type": "object", "properties": {"min_val": {"type": "number"}, "max_val": {"type": "number"}}},
    },
}
_DIMENSIONS = {"anyOf": [_DIMENSION, {"type": "array", "items": _DIMENSION}]}
# The datatype rules, in the project's own words: one of lattice (continuous) or sparse (events).
DATATYPE_SCHEMA = {
    "type": "object",
    "required": ["datatypeID", "name", "owner", "description", "tags", "datatype"],
    "properties": {
        "datatypeID": {"type": "string", "pattern": UUID.pattern},
        "name": {"type": "string", "minLength": 1},
        "owner": {"type": "string"},
        "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "parent": {"type": "string", "pattern": UUID.pattern},
        "extra": {"type": "object"},
        "datatype": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "lattice": {
                    "type": "object",
                    "required": ["primary_dimensions", "secondary_dimensions", "channels"],
                    "properties": {
                        "primary_dimensions": _DIMENSIONS,
                        "secondary_dimensions": _DIMENSIONS,
                        "channels": {"type": "array", "minItems": 1, "items": {
                            "type": "object", "required": ["label"],
                            "properties": {"label": {"type": "string"}, "description": {"type": "string"}}}},
                    },
                },
                "sparse": {
                    "type": "object",
                    "required": ["dimensions", "format"],
                    "properties": {
                        "dimensions": _DIMENSIONS,
                        "format": {"type": "object", "required": ["primary_dimensions"],
                                   "properties": {"primary_dimensions": _DIMENSIONS,
                                                  "secondary_dimensions": _DIMENSIONS}},
                    },
                },
            },
            "additionalProperties": False,
        },
    },
}
_VALIDATOR = Draft202012Validator(DATATYPE_SCHEMA)


class DatatypeInvalid(ValueError):
    """A datatype file breaks the datatype rules; the message names the file and the problem."""


@dataclass(frozen=True)
class Datatype:
    id: str
    name: str
    kind: str  # "lattice" or "sparse"
    description: str = ""
    rate: float | None = None  # samples per second (lattice)
    channels: tuple[str, ...] = ()
    units: str = ""
    value_range: tuple[float, float] | None = None
    source: str = ""
    media: str = ""  # "video" or "audio": a file to play, never to chart (the document's ``extra.media``)

    def chart_settings(self) -> dict:
        """What a chart of this datatype's file needs: a time axis, channel labels, units."""
        return {"name": self.name, "rate": self.rate, "channels": list(self.channels), "units": self.units,
                "range": list(self.value_range) if self.value_range else None}


@dataclass
class Catalog:
    by_id: dict[str, Datatype] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # duplicates: reported, not fatal

    def find(self, type_value) -> Datatype | None:
        """The datatype a node's `type` names (a UUID, or any string holding one, e.g. ``urn:uuid:…``)."""
        if not isinstance(type_value, str):
            return None
        found = UUID.search(type_value)
        return self.by_id.get(found.group(0)) if found else None

    def choices(self) -> list[tuple[str, str]]:
        """(id, name) of every datatype, by name, for a picker."""
        return sorted(((item.id, item.name) for item in self.by_id.values()), key=lambda pair: pair[1].lower())


def _first(dimensions) -> dict:
    if isinstance(dimensions, list):
        return dimensions[0] if dimensions else {}
    return dimensions or {}


def datatype_from(document, source: str = "") -> Datatype:
    """A Datatype from its document, or DatatypeInvalid saying what is wrong."""
    error = best_match(_VALIDATOR.iter_errors(document))
    if error is not None:
        while error.context:  # inside anyOf: the closest alternative's own problem
            error = best_match(error.context)
        where = "/".join(str(part) for part in error.absolute_path) or "the document"
        raise DatatypeInvalid(f"{source or 'datatype'}: {where}: {error.message}")
    (kind, body), = document["datatype"].items()
    media = (document.get("extra") or {}).get("media")
    media = media if media in MEDIA else ""
    if kind == "sparse":
        return Datatype(document["datatypeID"], document["name"], kind, document["description"], source=source)
    time_axis, quantity = _first(body["primary_dimensions"]), _first(body["secondary_dimensions"])
    value_range = quantity.get("range") or {}
    bounds = (value_range.get("min_val"), value_range.get("max_val"))
    return Datatype(
        document["datatypeID"], document["name"], kind, document["description"],
        rate=time_axis.get("resolution"),
        channels=tuple(channel["label"] for channel in body["channels"]),
        units=quantity.get("units", ""),
        value_range=bounds if None not in bounds else None,
        source=source,
        media=media,
    )


MAX_DATATYPE_BYTES = 256 * 1024  # far more than a datatype needs


def read_datatype_file(path: str) -> bytes:
    """The bytes of one datatype file: a regular file (not a FIFO, a device or a link to one) of at most
    MAX_DATATYPE_BYTES, read without waiting on anything; else DatatypeInvalid naming the file."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once instead of waiting
    except OSError as exc:
        raise DatatypeInvalid(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise DatatypeInvalid(f"{path}: is not a regular file (a datatype is a .json file)")
        data = handle.read(MAX_DATATYPE_BYTES + 1)
    if len(data) > MAX_DATATYPE_BYTES:
        raise DatatypeInvalid(f"{path}: is larger than {MAX_DATATYPE_BYTES // 1024} KB; a datatype file is small")
    return data


def load_catalog(*folders: str) -> Catalog:
    """Every datatype in these folders (``*.json``, in name order). A bad file raises DatatypeInvalid;
    an id declared twice keeps its first declaration and is noted."""
    catalog = Catalog()
    for folder in folders:
        if not folder:
            continue
        if not os.path.isdir(folder):
            raise DatatypeInvalid(f"{folder}: is not a folder of datatype files")
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json"):
                continue
            path = os.path.join(folder, name)
            try:
                document = strict_json(read_datatype_file(path))
            except JSONRefused as refused:
                raise DatatypeInvalid(f"{path}: {refused.reason}") from None
            datatype = datatype_from(document, path)
            kept = catalog.by_id.get(datatype.id)
            if kept is not None:
                catalog.notes.append(f"datatype id {datatype.id} is declared twice: {kept.name!r} ({kept.source}) "
                                     f"is used, {datatype.name!r} ({path}) is not")
                continue
            catalog.by_id[datatype.id] = datatype
    return catalog
