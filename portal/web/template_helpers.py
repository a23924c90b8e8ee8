"""Every filter and global the templates use, registered in one place."""
from __future__ import annotations

from flask import Flask, current_app
from markupsafe import Markup

from ..rules.api_calls import labels, listings, new_reference, python_snippet, sent_link
from ..rules.assets import human_size
from ..rules.datapack_rules import TreeNode, neutralised, reference_id, to_json_text
from ..rules.media_types import may_hold_numbers, preview_kind
from ..rules.tree_edits import container_places, node_fingerprint, removal_summary
from ..rules.datatype_suggestion import UPLOADED, suggest_datatype
from .security import is_safe_path_segment


def node_mime(node: dict) -> str:
    mime = TreeNode("", 0, node).mime if isinstance(node, dict) else ""
    return mime if isinstance(mime, str) else ""


def edit_containers(document: dict) -> list[tuple[str, str]]:
    return container_places(document) if isinstance(document, dict) else []


def datatype_of(node):
    """The datatype a data node's `type` names, if the portal knows it."""
    return current_app.extensions["datatypes"].find(node.get("type")) if isinstance(node, dict) else None


def file_reference(link: str) -> str:
    """The file id of an uploaded node, for `url_for(..., file_id=…)`; "" (no link to it) when the id
    repovizz2 stored could not be one segment of an address ("/", "..", control characters)."""
    ref = reference_id(link) if isinstance(link, str) else ""
    return ref if is_safe_path_segment(ref) else ""


def datatype_choices() -> list[tuple[str, str]]:
    """(id, name) of every datatype the portal knows, for a picker."""
    return current_app.extensions["datatypes"].choices()


def datatype_suggestion(node, channels: int | None = None) -> dict | None:
    """What the datatype picker of a data node the portal cannot read yet (no type, or one it does not
    know) offers: the names and media type the browser refines with the file's channels, and the
    datatype they (and `channels`, when counted) suggest (``suggested``: id, name, reason) if the
    portal knows it. None for a node already typed with a known datatype."""
    if not isinstance(node, dict) or node.get("class") != "data" or datatype_of(node) is not None:
        return None
    names = [value for value in (node.get("link"), node.get("name"))
             if isinstance(value, str) and value and not value.startswith(UPLOADED)]
    mime = node_mime(node)
    offer = {"names": names, "mime": mime, "suggested": None}
    suggestion = suggest_datatype(*names, mime=mime, channels=channels)
    datatype = current_app.extensions["datatypes"].find(suggestion.datatype_id) if suggestion else None
    if datatype is not None:
        offer["suggested"] = {"id": datatype.id, "name": datatype.name, "reason": suggestion.reason}
    return offer


def pretty_json(value) -> str:
    return to_json_text(value, indent=2)  # strict JSON, never raising, however deep or odd the value


def shown(value):
    """Every value a page writes: a bidirectional control (which repovizz2 may hold in a name) shown as
    its code, never obeyed."""
    if not isinstance(value, str):
        return value
    text = neutralised(value)
    return Markup(text) if isinstance(value, Markup) else text


def names_and_references(rows) -> tuple[dict[str, str], dict[str, str]]:
    """For the calls panel, from a result page's rows: each node's name, and its ``repovizz:<id>``,
    by the link its file was sent to."""
    names = {row.original_link: row.node.name for row in rows if row.original_link}
    refs = {row.original_link: row.reference for row in rows if row.original_link and row.reference}
    return names, refs


def init_app(app: Flask) -> None:
    app.jinja_env.finalize = shown
    app.add_template_filter(human_size, "filesize")
    app.add_template_filter(pretty_json, "pretty_json")
    app.add_template_global(preview_kind)
    app.add_template_global(may_hold_numbers)
    app.add_template_global(node_fingerprint)
    app.add_template_global(removal_summary)
    app.add_template_global(node_mime)
    app.add_template_global(edit_containers)
    app.add_template_global(file_reference)
    app.add_template_global(datatype_of)
    app.add_template_global(datatype_choices)
    app.add_template_global(datatype_suggestion)
    app.add_template_global(python_snippet)
    app.add_template_global(labels, "call_labels")
    app.add_template_global(listings, "content_listings")
    app.add_template_global(sent_link)
    app.add_template_global(names_and_references)
    app.add_template_global(new_reference)
