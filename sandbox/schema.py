"""The sandbox's own check of a datapack document: the public repovizz2 schema's rules, and nothing stricter.

Written from the rules as the public repovizz2 material states them:

- the document is an object with `info` and `children`;
- `info` is an object with `name`, `author`, `description` (strings) and `keywords` (unique strings);
  it may have an `id` (a UUID-bearing string);
- `children` (at the top and in every container) is an array of nodes;
- a node is an object with `class` ("container" or "data"), `name` and `text` (strings), and may have an
  `id` (a UUID-bearing string);
- a container also has `children`; a data node also has `link` (a string) and may have `type` (a
  UUID-bearing string) and `meta` (an object). `mime` and any other key are free.

"UUID-bearing": the public schema's UUID pattern is not anchored, so any string that *contains* a
lowercase UUID passes (`urn:uuid:…`, `{…}`). There is no depth limit in these rules: the walk below is
iterative, so it never runs out of stack however deep the tree. (How deep a body can be *parsed* is
another matter: see `sandbox.api.read_json`.)
"""
from __future__ import annotations

import re

UUID_SOMEWHERE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
INFO_STRINGS = ("name", "author", "description")
NODE_CLASSES = ("container", "data")


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _uuid_bearing(value) -> bool:
    return isinstance(value, str) and UUID_SOMEWHERE.search(value) is not None


def _unique(items: list) -> bool:
    seen = set()
    for item in items:
        key = (type(item).__name__, item) if isinstance(item, (str, int, float, bool, type(None))) else None
        if key is None:
            continue  # not a string: already reported as such
        if key in seen:
            return False
        seen.add(key)
    return True


def _check_info(info, problems: list[str]) -> None:
    if not isinstance(info, dict):
        problems.append(f"info: must be an object, not {_json_type(info)}")
        return
    for key in (*INFO_STRINGS, "keywords"):
        if key not in info:
            problems.append(f"info: '{key}' is required")
    for key in INFO_STRINGS:
        if key in info and not isinstance(info[key], str):
            problems.append(f"info.{key}: must be a string, not {_json_type(info[key])}")
    if "keywords" in info:
        keywords = info["keywords"]
        if not isinstance(keywords, list):
            problems.append(f"info.keywords: must be an array of strings, not {_json_type(keywords)}")
        else:
            for index, keyword in enumerate(keywords):
                if not isinstance(keyword, str):
                    problems.append(f"info.keywords[{index}]: must be a string, not {_json_type(keyword)}")
            if not _unique(keywords):
                problems.append("info.keywords: the keywords must be unique")
    if "id" in info and not _uuid_bearing(info["id"]):
        problems.append("info.id: must be a string containing a UUID")


def _check_node(node) -> tuple[list[tuple[str, str]], object]:
    """One node's own problems, as (key or "", message) pairs, and its children array if it is a container
    that has one (None otherwise)."""
    if not isinstance(node, dict):
        return [("", f"a node must be an object, not {_json_type(node)}")], None
    issues = [("", f"'{key}' is required") for key in ("class", "name", "text") if key not in node]
    node_class = node.get("class")
    if "class" in node and node_class not in NODE_CLASSES:
        issues.append(("class", "must be 'container' or 'data'"))
    for key in ("name", "text"):
        if key in node and not isinstance(node[key], str):
            issues.append((key, f"must be a string, not {_json_type(node[key])}"))
    if "id" in node and not _uuid_bearing(node["id"]):
        issues.append(("id", "must be a string containing a UUID"))
    children = None
    if node_class == "container":
        if "children" not in node:
            issues.append(("", "'children' is required"))
        else:
            children = node["children"]
    elif node_class == "data":
        if "link" not in node:
            issues.append(("", "'link' is required"))
        elif not isinstance(node["link"], str):
            issues.append(("link", f"must be a string, not {_json_type(node['link'])}"))
        if "type" in node and not _uuid_bearing(node["type"]):
            issues.append(("type", "must be a string containing a UUID"))
        if "meta" in node and not isinstance(node["meta"], dict):
            issues.append(("meta", f"must be an object, not {_json_type(node['meta'])}"))
    return issues, children


def document_problems(document) -> list[str]:
    """Every way `document` breaks the public schema's rules, each starting with its place
    (`children[1].children[0]: 'link' is required`); an empty list when it follows them."""
    if not isinstance(document, dict):
        return [f"the document must be an object, not {_json_type(document)}"]
    problems: list[str] = []
    for key in ("info", "children"):
        if key not in document:
            problems.append(f"'{key}' is required")
    if "info" in document:
        _check_info(document["info"], problems)
    if "children" in document:
        _walk(document["children"], problems)
    return problems


def _walk(nodes, problems: list[str]) -> None:
    """Check a node array and everything under it, depth first in document order, without recursion.

    Places are spelled out only for nodes that have a problem, so a deep tree costs linear time.
    """
    # Each frame: [node array, index of the next node to check]; the path to a node is the frames' indices.
    stack = [[nodes, 0]]

    def place(last_index: int | None = None) -> str:
        path = "children" + "".join(f"[{frame[1] - 1}].children" for frame in stack[:-1])
        return path if last_index is None else f"{path}[{last_index}]"

    while stack:
        frame = stack[-1]
        nodes, index = frame
        if index == 0 and not isinstance(nodes, list):
            problems.append(f"{place()}: must be an array of nodes, not {_json_type(nodes)}")
            stack.pop()
            continue
        if index >= len(nodes):
            stack.pop()
            continue
        frame[1] = index + 1
        issues, children = _check_node(nodes[index])
        if issues:
            node_place = place(index)
            problems.extend(f"{node_place}.{key}: {message}" if key else f"{node_place}: {message}"
                            for key, message in issues)
        if children is not None:
            stack.append([children, 0])
