"""What this login session sent to its latest datapacks: each data node's original link and the size
of its file, noted when the portal plans an upload or a resume.

repovizz2 rewrites a link to ``repovizz:<id>`` once its file arrives, and keeps neither the original
name nor the size in the document; a result page after a resume reads them back from here, so every
row shows its original file, size and reference. Only the last few datapacks are kept (a session
stays small); what is not known here is shown as such, never guessed.
"""
from __future__ import annotations

from flask import g, session

from ..rules.datapack_rules import is_uploaded, walk_data_nodes

KEY = "sent_files"
KEEP = 3  # datapacks remembered per session


def remember(datapack_id: str, document: dict, sizes: dict[str, int]) -> None:
    """Note every data node of `document` still waiting for its file: place → [name, link, size].

    `sizes` are the bytes planned per link; a node noted before keeps its size when this plan has none.
    """
    if g.get("script_token") or not isinstance(document, dict):
        return  # a script's call has no session to keep it in
    records = dict(session.get(KEY) or {})
    record = dict(records.pop(datapack_id, None) or {})
    for node in walk_data_nodes(document):
        link = node.link
        if not isinstance(link, str) or is_uploaded(link):
            continue
        size = sizes.get(link)
        noted = record.get(node.place)
        if size is None and noted and noted[1] == link:
            size = noted[2]
        record[node.place] = [node.name, link, size]
    records[datapack_id] = record
    while len(records) > KEEP:
        records.pop(next(iter(records)))
    session[KEY] = records


def recall(datapack_id: str) -> dict[str, list]:
    """What `remember` noted for the datapack (place → [name, link, size]); empty when nothing."""
    record = (session.get(KEY) or {}).get(datapack_id)
    return record if isinstance(record, dict) else {}


def known_size(datapack_id: str, files: int) -> int | None:
    """The bytes of a datapack's `files` files, when this session noted the size of every one of them
    (repovizz2 lists no sizes); else None."""
    sizes = [noted[2] for noted in recall(datapack_id).values() if isinstance(noted, list) and len(noted) == 3]
    if not files or len(sizes) != files or not all(type(size) is int for size in sizes):
        return None
    return sum(sizes)
