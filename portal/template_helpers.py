"""Every filter and global the templates use, registered in one place."""
from __future__ import annotations

import json

from flask import Flask, current_app

from .api_calls import python_snippet
from .assets import human_size
from .datapack_rules import TreeNode, reference_id
from .media_types import download_name, preview_kind
from .tree_edits import container_places, node_fingerprint


def node_mime(node: dict) -> str:
    mime = TreeNode("", 0, node).mime if isinstance(node, dict) else ""
    return mime if isinstance(mime, str) else ""


def edit_containers(document: dict) -> list[tuple[str, str]]:
    return container_places(document) if isinstance(document, dict) else []


def datatype_of(node):
    """The datatype a data node's `type` names, if the portal knows it."""
    return current_app.extensions["datatypes"].find(node.get("type")) if isinstance(node, dict) else None


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def init_app(app: Flask) -> None:
    app.add_template_filter(human_size, "filesize")
    app.add_template_filter(pretty_json, "pretty_json")
    app.add_template_global(preview_kind)
    app.add_template_global(node_fingerprint)
    app.add_template_global(node_mime)
    app.add_template_global(edit_containers)
    app.add_template_global(reference_id, "file_reference")
    app.add_template_global(datatype_of)
    app.add_template_global(download_name)
    app.add_template_global(python_snippet)
