"""The problem type: one thing wrong with a datapack or its files, as one readable line that keeps
its parts (the node by its names, its place, the message, which rules it breaks), and
`DatapackInvalid`, which carries every problem found. Also how a value is named in a message."""
from __future__ import annotations

import json
from typing import Iterable

from .characters import without_surrogates
from .strict_json import to_json_text

SCHEMA, PORTAL, FILE = "schema", "portal", "file"
_LEADS = {SCHEMA: "repovizz2 would refuse this: ", PORTAL: "the portal's own check: ", FILE: ""}
KIND_LABELS = {SCHEMA: "repovizz2 would refuse this", PORTAL: "the portal's own check", FILE: ""}

DOCUMENT_WHERE = "the document"
INFO_WHERE = "the datapack's info"
TOP_LEVEL = "the top level"


class Problem(str):
    """One problem with a datapack or its files.

    It *is* its readable line (``str(problem)``), so lists of problems stay lists of strings for the
    JSON API and for every caller that joins them; its parts are kept for the pages:

    - ``where``: the node by its names from the root ("IMU › Orientation"), or "the document",
      "the datapack's info", or "" for a file;
    - ``place``: the technical place (``children[2].children[2]``), "" when there is none;
    - ``message``: what is wrong, in words;
    - ``kind``: ``schema`` (repovizz2 itself would refuse it), ``portal`` (the portal's own,
      stricter rule for what it creates) or ``file`` (the files sent, or the document file itself).
    """

    where: str
    place: str
    message: str
    kind: str

    def __new__(cls, message: str, *, where: str = "", place: str = "", kind: str = FILE):
        lead = _LEADS.get(kind, "")
        subject = f"{where}: " if where else ""
        shown_place = f" ({place})" if place and place != where else ""
        self = super().__new__(cls, f"{lead}{subject}{message}{shown_place}")
        self.where, self.place, self.message, self.kind = where, place, message, kind
        return self

    def __reduce__(self):
        return (_rebuild_problem, (self.message, self.where, self.place, self.kind))

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, "")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "where": self.where, "place": self.place, "message": self.message,
                "text": str(self)}


def _rebuild_problem(message, where, place, kind):
    return Problem(message, where=where, place=place, kind=kind)


def as_problem(value) -> Problem:
    """A Problem for `value` (a plain string becomes a problem of kind ``file`` with that message)."""
    return value if isinstance(value, Problem) else Problem(str(value))


# What one answer may carry, whatever was sent: the files or nodes one problem names, the characters
# of a path or link it quotes, and the problems of one answer (their JSON parts, summed).
SHOWN_PER_PROBLEM = 5
SHOWN_CHARS = 200
MAX_PROBLEMS_BYTES = 256 * 1024


def quoted(text) -> str:
    """A path or link as a message quotes it (``repr``-style), its first SHOWN_CHARS characters only."""
    text = str(text)
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}… ({len(text)} characters)"


def listed(items, shown: int = SHOWN_PER_PROBLEM, quote=quoted) -> str:
    """The first `shown` items, quoted and joined, then "… and 997 more" for the rest."""
    items = list(items)
    text = ", ".join(quote(item) for item in items[:shown])
    return text + (f" … and {len(items) - shown} more" if len(items) > shown else "")


def _problem_bytes(problem: Problem) -> int:
    """The size of a problem's parts as the API writes them (JSON, non-ASCII escaped)."""
    return len(json.dumps(problem.as_dict()))


class MoreProblems(Problem):
    """The last line of a bounded list: how many problems were left out of it."""

    def __new__(cls, count: int):
        self = super().__new__(cls, f"… and {count} more {'problem' if count == 1 else 'problems'}, not listed here")
        self.left_out = count
        return self

    def __reduce__(self):
        return (MoreProblems, (self.left_out,))


def bounded_problems(problems, max_bytes: int = MAX_PROBLEMS_BYTES) -> list[Problem]:
    """`problems` without repeats, in order, as many as fit in `max_bytes`; the rest counted in a last
    line (a list bounded before stays as it is)."""
    seen: set[str] = set()
    kept: list[Problem] = []
    used = left = 0
    for problem in map(as_problem, problems):
        if isinstance(problem, MoreProblems):
            left += problem.left_out
            continue
        if problem in seen:
            continue
        seen.add(problem)
        size = _problem_bytes(problem)
        if left or used + size > max_bytes:
            left += 1
            continue
        used += size
        kept.append(problem)
    if left:
        kept.append(MoreProblems(left))
    return kept


class DatapackInvalid(ValueError):
    """The document (or the files sent with it) breaks the rules; `problems` lists them (repeats
    dropped, bounded in size: see `bounded_problems`)."""

    def __init__(self, problems: list):
        self.problems: list[Problem] = bounded_problems(problems)
        super().__init__("; ".join(self.problems))

    @property
    def details(self) -> list[dict]:
        return [problem.as_dict() for problem in self.problems]


def place_of(path: Iterable[str | int]) -> str:
    """Turn a JSON path into its technical place, e.g. ``children[1].children[0]``."""
    place = ""
    for part in path:
        if isinstance(part, int):
            place += f"[{part}]"
        else:
            place += f".{part}" if place else part
    return place or "document"


def json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array", dict: "object"}.get(
        type(value), type(value).__name__
    )


def shown(value) -> str:
    """A short JSON rendering of a value for a message (never the whole of a big or deep one)."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        text = json.dumps(value[:80] + ("…" if len(value) > 80 else ""), ensure_ascii=False)
    else:
        text = to_json_text(value)
    return without_surrogates(text)


def a_json_value(kind: str) -> str:
    """A JSON type as a message names a value of it ("a JSON array", "a number"…)."""
    return {"array": "a JSON array", "object": "a JSON object", "integer": "a number", "number": "a number",
            "string": "a JSON string", "boolean": "true or false", "null": "null"}.get(kind, kind)
