"""The portal's own rules for the datapacks it creates, stricter than repovizz2's: a non-empty name,
a textual ``mime``, no control characters in names and texts, at most MAX_DEPTH levels of nodes and
MAX_NESTING levels of JSON; and the checks a new document goes through: repovizz2's rules first
(portal/rules/repovizz2_rules.py), then these for the nodes those found nothing wrong with, then the
link rules (portal/rules/links.py). What repovizz2 already holds is never judged by these."""
from __future__ import annotations

import re

from .characters import control_character_reason
from .datapack_tree import NodeAt, nodes_in_order
from .links import link_problems
from .problems import DOCUMENT_WHERE, INFO_WHERE, PORTAL, DatapackInvalid, Problem, json_type, place_of
from .repovizz2_rules import looks_like_datapack, not_a_datapack, schema_pass
from .strict_json import JSONRefused, strict_json, too_deep_path

# The portal's own limits (repovizz2 states none): levels of nodes in a datapack it creates, and
# levels of JSON nesting anywhere in it (a node's `meta`, say).
MAX_DEPTH = 40
MAX_NESTING = 200


def nesting_problem(document) -> Problem | None:
    """The portal's limit on JSON nesting (a `meta` nested hundreds of levels, say), as one problem."""
    path = too_deep_path(document, MAX_NESTING)
    if path is None:
        return None
    at, value, used = None, document, 0
    while used + 1 < len(path) and path[used] == "children" and isinstance(path[used + 1], int):
        value = value["children"][path[used + 1]]
        if not isinstance(value, dict):
            break
        at = NodeAt(at, path[used + 1], value)
        used += 2
    place = place_of(path[:used + 1])
    return Problem(f"is nested more than {MAX_NESTING} levels deep; the portal takes at most {MAX_NESTING} levels "
                   "of JSON (a limit of the portal, not of repovizz2)",
                   where=at.where() if at else DOCUMENT_WHERE, place=place, kind=PORTAL)


def portal_problems(document, skip: set[str] = frozenset(), skip_nodes: set[int] = frozenset()) -> list[Problem]:
    """The portal's own, stricter rules for a document it is about to create (links apart: see
    `link_problems`). Nodes already reported (their place in `skip`, or their id in `skip_nodes`)
    are left alone."""
    if not isinstance(document, dict):
        return []
    problems: list[Problem] = []
    info = document.get("info")
    if isinstance(info, dict):
        name = info.get("name")
        if isinstance(name, str) and not name.strip():
            problems.append(Problem("'name' must not be empty: repovizz2 lists the datapack under it",
                                    where=INFO_WHERE, place="info.name", kind=PORTAL))
        for key in ("name", "author", "description"):
            reason = control_character_reason(info.get(key), multiline=key == "description")
            if reason:
                problems.append(Problem(f"'{key}' {reason}", where=INFO_WHERE, place=f"info.{key}", kind=PORTAL))
    too_deep = None
    skip_depths = {place.count("[") for place in skip}  # a node's place is worked out only where it may match
    for at in nodes_in_order(document):
        if id(at.node) in skip_nodes or (at.depth in skip_depths and at.place() in skip):
            continue
        if at.depth > MAX_DEPTH:
            too_deep = too_deep or Problem(
                f"is nested more than {MAX_DEPTH} levels deep; the portal creates datapacks of at most {MAX_DEPTH} "
                "levels (a limit of the portal, not of repovizz2)", where=at.where(), place=at.place(), kind=PORTAL)
            continue
        node = at.node
        for key in ("name", "text"):
            reason = control_character_reason(node.get(key), multiline=key == "text")
            if reason:
                problems.append(Problem(f"'{key}' {reason}", where=at.where(), place=f"{at.place()}.{key}",
                                        kind=PORTAL))
        if node.get("class") == "data" and "mime" in node:
            mime = node["mime"]
            reason = f"must be text such as \"video/mp4\", not {json_type(mime)}" if not isinstance(mime, str) \
                else control_character_reason(mime)
            if reason:
                problems.append(Problem(f"'mime' {reason}", where=at.where(), place=f"{at.place()}.mime",
                                        kind=PORTAL))
    if too_deep:
        problems.append(too_deep)
    nesting = nesting_problem(document) if too_deep is None else None
    if nesting:
        problems.append(nesting)
    return problems


def broken_places(problems: list[Problem]) -> set[str]:
    """The places of the nodes `problems` are about (a problem at ``children[0].link`` breaks ``children[0]``)."""
    places = set()
    for problem in problems:
        place = problem.place
        match = _NODE_PLACE.match(place) if place else None
        if match:
            places.add(match.group())
    return places


_NODE_PLACE = re.compile(r"children\[\d+\](?:\.children\[\d+\])*")


def document_problems(document) -> list[Problem]:
    """Every way `document` breaks the rules for a new datapack, the links' own rules apart: the public
    schema's first, then the portal's own for the nodes the schema found nothing wrong with."""
    if not looks_like_datapack(document):
        return [not_a_datapack(document)]
    problems, broken = schema_pass(document)
    return problems + portal_problems(document, skip_nodes=broken)


def upload_problems(document) -> list[Problem]:
    """Everything a new datapack's document must pass before its files are looked at: both levels of
    rules and the link rules; a node already reported is not reported again for its link."""
    problems = document_problems(document)
    if problems and not looks_like_datapack(document):
        return problems
    return problems + link_problems(document, broken_places(problems))


def load_document(text: str | bytes) -> dict:
    """Parse a document's JSON strictly (no rules checked yet), raising DatapackInvalid when it is not
    JSON or not even shaped like a datapack (a sensor file chosen by mistake, say)."""
    try:
        document = strict_json(text)
    except JSONRefused as refused:
        raise DatapackInvalid([Problem(refused.reason, where=DOCUMENT_WHERE)]) from None
    if not isinstance(document, dict):
        raise DatapackInvalid([not_a_datapack(document)])
    return document


def parse_document(text: str | bytes) -> dict:
    """Parse and check a new datapack document (both levels of rules), raising DatapackInvalid with every problem."""
    document = load_document(text)
    problems = document_problems(document)
    if problems:
        raise DatapackInvalid(problems)
    return document
