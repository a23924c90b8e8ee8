"""The tracks of a datapack's timeline: which data nodes are drawn on one time axis, and how.

A node is a track once its file is uploaded: a video or an audio player (by its mime type, where
the node has it or in ``meta``, else its link's extension), the events of a sparse datatype, or a
stream of numbers: the samples of a lattice datatype, or a file whose type says nothing (no
datatype, or one the portal does not know) that the browser reads to find out. Pictures and other
files are not on the timeline. Pure: no Flask.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .datapack_tree import TreeNode, reference_id, walk_data_nodes
from .media_types import may_hold_numbers, preview_kind

MAX_TRACKS = 64  # a stored tree may hold thousands of files: the page draws this many and says so


@dataclass(frozen=True)
class Track:
    place: str
    name: str
    text: str
    kind: str  # "video", "audio", "events" or "stream"
    file_id: str
    mime: str
    datatype: object = None  # the Datatype the node's `type` names, when the portal knows it
    type_value: str = ""  # the node's `type` as stored (maybe unknown to the portal)
    node: dict = field(default_factory=dict, compare=False, repr=False)  # the node itself, for its edit form

    @property
    def rate_known(self) -> bool:
        return self.datatype is not None and getattr(self.datatype, "rate", None) is not None

    @property
    def accessible_name(self) -> str:
        """What a screen reader announces for the track: its name, units and axis, with spaces."""
        parts = [self.name or "Unnamed"]
        units = getattr(self.datatype, "units", "") if self.kind == "stream" else ""
        if units:
            parts.append(units.replace("/", " per "))
        parts.append("time in seconds")
        return ", ".join(parts)

    def settings(self) -> dict:
        """What the browser needs to draw a stream: rate, channel labels, units, value range."""
        if self.datatype is not None and self.datatype.kind == "lattice":
            return self.datatype.chart_settings()
        return {"name": "", "rate": None, "channels": [], "units": "", "range": None}


@dataclass(frozen=True)
class Timeline:
    tracks: tuple[Track, ...]
    left_out: int  # time-based nodes past MAX_TRACKS


def _kind(node: TreeNode, datatype) -> str:
    mime = node.mime if isinstance(node.mime, str) else ""
    shown = preview_kind(mime, node.link)
    if shown in ("video", "audio"):
        return shown
    if shown == "image":
        return ""
    media = getattr(datatype, "media", "")
    if media in ("video", "audio"):  # a datatype of things to play (Video): played even with no media type
        return media
    if datatype is not None:
        return "events" if datatype.kind == "sparse" else "stream"
    if shown == "chart" or may_hold_numbers(mime):
        return "stream"
    return ""


def timeline_of(document, find_datatype: Callable[[object], object]) -> Timeline:
    """The tracks of the uploaded data nodes, in document order (videos first, then audio, then the rest)."""
    tracks = []
    for node in walk_data_nodes(document):
        file_id = reference_id(node.link)
        if not file_id:
            continue
        type_value = node.node.get("type")
        datatype = find_datatype(type_value)
        kind = _kind(node, datatype)
        if not kind:
            continue
        mime = node.mime if isinstance(node.mime, str) else ""
        tracks.append(Track(node.place, node.name, node.text, kind, file_id, mime, datatype,
                            type_value if isinstance(type_value, str) else "", node.node))
    order = {"video": 0, "audio": 1}
    tracks.sort(key=lambda track: order.get(track.kind, 2))  # stable: document order within each kind
    return Timeline(tuple(tracks[:MAX_TRACKS]), max(0, len(tracks) - MAX_TRACKS))
