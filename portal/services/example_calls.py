"""The calls panel for the example opened again: the calls that made the user's copy of the example,
rebuilt from the example's own document and what repovizz2 holds of the copy now (no state kept
between requests), then the calls made to read it back."""
from __future__ import annotations

import json
import os

from ..rules import api_calls
from ..rules.datapack_rules import walk_data_nodes
from .repovizz2_client import Repovizz2Client

EXAMPLE_DOCUMENT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "example", "datapack.json")


def example_document() -> dict:
    """The example datapack's document, as the portal ships it."""
    with open(EXAMPLE_DOCUMENT, encoding="utf-8") as document:
        return json.load(document)


def example_calls(client: Repovizz2Client, datapack_id: str) -> tuple[dict, list[dict], dict, dict]:
    """Read the datapack back (recorded) and rebuild the upload that made it from the example.

    Returns the datapack as repovizz2 holds it, the calls (the rebuilt ones first), and by the link
    each file was sent to, its node's name and its ``repovizz:<id>``."""
    client.record_calls()
    item = client.datapack(datapack_id)
    client.content(datapack_id)
    original = example_document()
    stored = {node.place: node for node in walk_data_nodes(item.get("structure") or {})}
    place_links = []
    for node in walk_data_nodes(original):
        now = stored.get(node.place)
        place_links.append((node.place, node.link, node.name, now.link if now is not None else None))
    rebuilt = api_calls.rebuilt_upload(original, {**item, "id": datapack_id}, place_links)
    names = {link: name for _, link, name, _ in place_links}
    refs = {link: now for _, link, _, now in place_links if isinstance(now, str) and now.startswith("repovizz:")}
    return item, rebuilt + list(client.calls or []), names, refs
