"""Walking a datapack's tree: every node in document order with its place and its names from the
root, however deep (every walk is iterative), and what a data node's link says (uploaded or not)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from .characters import CONTROL, without_surrogates
from .problems import TOP_LEVEL

UPLOADED_PREFIX = "repovizz:"

_TRAIL_SHOWN = 6


def display_name(node) -> str:
    """A node's name as a trail shows it: one line, readable, not too long; "(unnamed)" when it has none."""
    name = node.get("name") if isinstance(node, dict) else None
    name = without_surrogates(" ".join(CONTROL.sub(" ", name).split())) if isinstance(name, str) else ""
    if not name:
        return "(unnamed)"
    return name if len(name) <= 60 else name[:59] + "…"


def trail_text(names: list[str]) -> str:
    """``IMU › Orientation``: a node by its names from the root (the middle of a very deep one elided)."""
    if len(names) > _TRAIL_SHOWN:
        names = names[:2] + ["…"] + names[-(_TRAIL_SHOWN - 3):]
    return " › ".join(names)


class NodeAt:
    """Where a node sits: its parent's `NodeAt`, its index among its siblings, and the node itself."""

    __slots__ = ("parent", "index", "node", "depth")

    def __init__(self, parent: NodeAt | None, index: int, node):
        self.parent, self.index, self.node = parent, index, node
        self.depth = parent.depth + 1 if parent else 1

    def chain(self) -> list[NodeAt]:
        chain, at = [], self
        while at is not None:
            chain.append(at)
            at = at.parent
        return chain[::-1]

    def place(self) -> str:
        return ".".join(f"children[{at.index}]" for at in self.chain())

    def where(self) -> str:
        return trail_text([display_name(at.node) for at in self.chain()])

    def parent_where(self) -> str:
        return self.parent.where() if self.parent else TOP_LEVEL


def nodes_in_order(document) -> Iterator[NodeAt]:
    """Every node (objects only) in document order, with where it sits; iterative."""
    children = document.get("children") if isinstance(document, dict) else None
    stack = [(None, children, 0)]
    while stack:
        parent, nodes, start = stack.pop()
        if not isinstance(nodes, list):
            continue
        for index in range(start, len(nodes)):
            node = nodes[index]
            if not isinstance(node, dict):
                continue
            at = NodeAt(parent, index, node)
            yield at
            if node.get("class") == "container":
                stack.append((parent, nodes, index + 1))
                stack.append((at, node.get("children"), 0))
                break


@dataclass(frozen=True)
class TreeNode:
    """One node of a datapack tree, with its place and depth for display."""

    place: str
    depth: int
    node: dict = field(compare=False, repr=False)
    names: tuple = field(default=(), compare=False, repr=False)  # the names from the root down to it

    @property
    def is_data(self) -> bool:
        return self.node.get("class") == "data"

    @property
    def name(self) -> str:
        name = self.node.get("name", "")
        return name if isinstance(name, str) else ""

    @property
    def text(self) -> str:
        text = self.node.get("text", "")
        return text if isinstance(text, str) else ""

    @property
    def link(self) -> str:
        link = self.node.get("link", "")
        return link if isinstance(link, str) else ""

    @property
    def mime(self) -> str:
        meta = self.node.get("meta")
        mime = self.node.get("mime") or (meta.get("mime", "") if isinstance(meta, dict) else "")
        return mime if isinstance(mime, str) else ""

    @property
    def uploaded(self) -> bool:
        return is_uploaded(self.link)

    @property
    def where(self) -> str:
        """The node by its names from the root: ``IMU › Orientation``."""
        return trail_text(list(self.names)) if self.names else display_name(self.node)


def walk_nodes(document) -> Iterator[TreeNode]:
    """Every node of the tree in document order (depth first), however deep, without recursion."""
    trail: list[str] = []
    stack = [((document.get("children") if isinstance(document, dict) else None), "", 0, 0)]
    while stack:
        nodes, parent, depth, start = stack.pop()
        if not isinstance(nodes, list):
            continue
        for index in range(start, len(nodes)):
            node = nodes[index]
            if not isinstance(node, dict):
                continue
            place = f"{parent}.children[{index}]" if parent else f"children[{index}]"
            del trail[depth:]
            trail.append(display_name(node))
            yield TreeNode(place, depth, node, tuple(trail))
            if node.get("class") == "container":
                stack.append((nodes, parent, depth, index + 1))
                stack.append((node.get("children"), place, depth + 1, 0))
                break


def container_names(document) -> dict[str, list[str]]:
    """For each node's place, the names of the containers it sits in, outermost first."""
    trail: list[str] = []
    names: dict[str, list[str]] = {}
    for node in walk_nodes(document):
        del trail[node.depth:]
        names[node.place] = list(trail)
        if not node.is_data:
            trail.append(node.name)
    return names


def walk_data_nodes(document) -> list[TreeNode]:
    """The data nodes of the tree, in document order."""
    return [node for node in walk_nodes(document) if node.is_data]


def tree_depth(document) -> int:
    """How many levels of nodes the tree has (0 when it has none)."""
    return max((node.depth + 1 for node in walk_nodes(document)), default=0)


def is_uploaded(link) -> bool:
    return isinstance(link, str) and link.startswith(UPLOADED_PREFIX)


def reference_id(link) -> str:
    """The opaque id behind ``repovizz:<id>``."""
    return link[len(UPLOADED_PREFIX):] if is_uploaded(link) else ""


def pending_links(content: dict) -> list[str]:
    """The links of a content listing that still wait for their file."""
    return [link for link in content if not is_uploaded(link)]
