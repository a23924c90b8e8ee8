"""Finishing one pending data node, chosen by its place: the file goes to that node, whatever its link says.

repovizz2 addresses a node's file by the node's current link (`POST …/content/<link>`), which
rewrites the *first* node having that link. A stored datapack may hold links no URL can name, or
that name another node: empty, ``../up.csv``, ``/abs.csv``, ``a//b.csv`` (the public schema allows
them all), or a link two pending nodes share. The link is only what repovizz2 calls the node's slot,
so such a node first gets a pending link of its own (made from the chosen file's name), then the
file goes to it. Should the sending fail, the node gets its old link back (best effort).
"""
from __future__ import annotations

from collections import Counter

from ..rules.assets import Asset
from ..rules.datapack_rules import is_uploaded, link_reason, walk_data_nodes
from .repovizz2_client import Repovizz2Client, Repovizz2Error
from ..rules.tree_edits import EditError, free_link, node_at, node_fingerprint, put_node, set_node_link, shares_link
from .upload_pipeline import send_file


class NodeChanged(EditError):
    """The node at the place is not the one the form was made for any more."""


def _link_problem(link, shared: bool) -> str | None:
    if not isinstance(link, str) or not link.strip():
        return "its link is empty"
    reason = link_reason(link)
    if reason:
        return f"its link {reason}"
    if shared:
        return "another data node has the same link"
    return None


def slot_problem(document: dict, place: str) -> str | None:
    """Why the node's own link cannot take its file as it is (None when it can)."""
    return _link_problem(node_at(document, place).get("link"), shares_link(document, place))


def slot_problems(document: dict) -> dict[str, str]:
    """For every pending data node whose link cannot take its file as it is: place → why."""
    nodes = walk_data_nodes(document)
    counts = Counter(repr(node.node.get("link")) for node in nodes)
    problems = {}
    for node in nodes:
        if node.uploaded:
            continue
        problem = _link_problem(node.node.get("link"), counts[repr(node.node.get("link"))] > 1)
        if problem:
            problems[node.place] = problem
    return problems


def pending_node(document: dict, place: str, expect: str | None = None) -> dict:
    """The pending data node at `place` (and, given `expect`, still the one a form was made for), else EditError."""
    node = node_at(document, place)
    if expect is not None and node_fingerprint(node) != expect:
        raise NodeChanged("the datapack changed since this page was loaded (in another tab?): "
                        "look at it again and redo the change")
    if node.get("class") != "data":
        raise EditError(f"{place} is not a data node")
    if is_uploaded(node.get("link")):
        raise EditError(f"{place} has its file already (replace it instead)")
    return node


def send_to_node(client: Repovizz2Client, datapack_id: str, place: str, asset: Asset, *,
                 expect: str | None = None, user: str = "") -> tuple[str, str | None]:
    """Send `asset` to the pending data node at `place`. Returns the link it was sent to and the
    node's new ``repovizz:<id>`` (None when repovizz2 answered only "OK"). EditError when the node
    is not a pending data node (nothing sent); what repovizz2 refuses is raised as it came."""
    document = client.datapack(datapack_id).get("structure") or {}
    old = pending_node(document, place, expect)
    slot = old.get("link")
    relinked = slot_problem(document, place) is not None
    if relinked:
        slot = free_link(document, asset.path or (slot if isinstance(slot, str) else ""))
        client.update_datapack(datapack_id, structure=set_node_link(document, place, slot))
    try:
        with asset.open() as source:
            ref = send_file(client, datapack_id, slot, source, asset.size, asset.guessed_mime, user)
    except BaseException:
        if relinked:
            _point_back(client, datapack_id, place, slot, old)
        raise
    if ref is None:
        link = node_at(client.datapack(datapack_id).get("structure") or {}, place).get("link")
        ref = link if is_uploaded(link) else None
    return slot, ref


def _point_back(client: Repovizz2Client, datapack_id: str, place: str, slot: str, old: dict) -> None:
    """After a failed sending to the node's new `slot`: give it back the node it was (best effort)."""
    try:
        document = client.datapack(datapack_id).get("structure") or {}
        if node_at(document, place).get("link") == slot:
            client.update_datapack(datapack_id, structure=put_node(document, place, old))
    except (Repovizz2Error, EditError):
        pass  # the node stays pending under its new link, waiting for its file on the datapack page
