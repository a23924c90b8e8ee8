"""Links: the rules on a data node's link (it names a file safely: relative, no '..', no control
characters; one node per file) and pairing the links of a document with the files sent beside it."""
from __future__ import annotations

import posixpath
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from .characters import BIDI, CONTROL, SURROGATE
from .datapack_tree import TreeNode, walk_data_nodes
from .problems import PORTAL, Problem, listed, quoted


def unsafe_link_reason(link) -> str | None:
    """Why a path cannot name a file safely (a link, or a path in an archive, which is normalised
    afterwards), or None when it can. See `link_reason` for the stricter rule on a document's links."""
    if not isinstance(link, str):
        return "is not a string"
    if not link.strip():
        return "is empty"
    if "\x00" in link:
        return "contains a NUL character"
    control = CONTROL.search(link)
    if control:
        return f"contains a control character (U+{ord(control.group()):04X})"
    if SURROGATE.search(link):
        return "contains a lone surrogate (half of a character)"
    bidi = BIDI.search(link)
    if bidi:
        return f"contains a bidirectional control (U+{ord(bidi.group()):04X})"
    if link.startswith(("/", "\\")) or (len(link) > 1 and link[0].isalpha() and link[1] == ":"):
        return "is an absolute path"
    parts = link.replace("\\", "/").split("/")
    if ".." in parts:
        return "goes up a folder with '..'"
    if len(link) > 1024:
        return "is longer than 1024 characters"
    return None


def link_reason(link) -> str | None:
    """Why a data node's link cannot wait for a file, or None when it can: `unsafe_link_reason`, and
    no empty or ``.`` part between slashes (``a//b``, ``./a``, ``a/``), which a file uploaded to it
    could never reach."""
    reason = unsafe_link_reason(link)
    if reason is None and {"", "."} & set(link.replace("\\", "/").split("/")):
        reason = "has an empty or '.' part between slashes: write 'a/b.json', not 'a//b.json', './b.json' or 'a/'"
    return reason


def link_problems(document, skip: set[str] = frozenset()) -> list[Problem]:
    """The portal's rules on the links of the files still to upload: each names a file safely, and
    no two nodes wait for the same file. Nodes whose place is in `skip` are left alone."""
    nodes = [node for node in walk_data_nodes(document)
             if isinstance(node.node.get("link"), str) and not node.uploaded and node.place not in skip]
    problems = []
    safe = []
    for node in nodes:
        reason = link_reason(node.link)
        if reason:
            problems.append(Problem(f"link {quoted(node.link)} {reason}", where=node.where, place=node.place,
                                    kind=PORTAL))
        else:
            safe.append(node)
    by_link: dict[str, list[TreeNode]] = {}
    for node in safe:
        by_link.setdefault(node.link, []).append(node)
    for link, group in by_link.items():
        if len(group) > 1:
            nodes_text = listed(group, quote=lambda node: f"{node.where} ({node.place})")
            problems.append(Problem(f"link {quoted(link)} is used by {len(group)} data nodes: {nodes_text}; "
                                    "each file can be uploaded once", kind=PORTAL))
    return problems


def normalize_path(path: str) -> str:
    """A file's relative path as the browser or zip gave it, with forward slashes and no ``./``."""
    return posixpath.normpath(path.replace("\\", "/")).lstrip("/") if path else ""


@dataclass
class FileMatch:
    """How the links of a datapack pair up with the files sent beside it."""

    matched: dict[str, str]  # link -> file path
    missing: list[str]
    ambiguous: dict[str, list[str]]  # link -> the files it could mean
    contested: dict[str, list[str]]  # file path -> the links that all mean it
    unreferenced: list[str]  # files no link means: left out of an upload, not a problem

    @property
    def problems(self) -> list[Problem]:
        problems = [Problem(f"no file was sent for link {quoted(link)}") for link in self.missing]
        problems += [Problem(f"link {quoted(link)} matches several files: {listed(paths)}")
                     for link, paths in self.ambiguous.items()]
        problems += [Problem(f"file {quoted(path)} is matched by several links: {listed(links)}")
                     for path, links in self.contested.items()]
        return problems


def _same(path: str) -> str:
    """The form two paths are compared in: macOS hands out decomposed (NFD) names, documents say NFC."""
    return unicodedata.normalize("NFC", path)


class _FileIndex:
    """The files by exact path, by every tail after a "/" and by file name: each lookup a dictionary's."""

    def __init__(self, paths: list[str]):
        self.exact: dict[str, list[str]] = {}
        self.below: dict[str, list[str]] = {}
        self.named: dict[str, list[str]] = {}
        for path in paths:
            key = _same(path)
            self.exact.setdefault(key, []).append(path)
            tails = [key[index + 1:] for index, char in enumerate(key) if char == "/"]
            for tail in dict.fromkeys(tails):
                self.below.setdefault(tail, []).append(path)
            self.named.setdefault(posixpath.basename(key), []).append(path)

    def candidates(self, link: str) -> list[str]:
        """The files a link could mean: the exact relative path; else the paths that end with "/" + link;
        else the files of the same name."""
        wanted = _same(normalize_path(link))
        if not wanted or wanted == ".":
            return []
        # A folder upload prefixes the chosen folder's name. Every such file is a candidate, however
        # deep: preferring the shallowest would pick a stray copy above a document kept in a subfolder.
        return list(self.exact.get(wanted) or self.below.get(wanted) or self.named.get(posixpath.basename(wanted), []))


def match_links_to_files(links: Iterable[str], file_paths: Iterable[str]) -> FileMatch:
    """Pair each link with exactly one file: by relative path first, then by file name.

    A file that is some link's only candidate is taken by it and no longer a candidate of the links
    that could mean several files. A file taken by several links is contested (so is every file of
    a link whose candidates were all taken). Every file ends up exactly one of matched, contested,
    an ambiguous link's candidate, or unreferenced.

    Linear in the links and files (plus the candidates each link has): files are looked up in
    dictionaries, and each round of taking only revisits the links that lost a candidate.
    """
    paths = sorted({normalize_path(path) for path in file_paths})
    index = _FileIndex(paths)
    # A link that is not a string, or is blank, names no file: that is the document's problem
    # (document_problems, link_problems), not a file to look for.
    unique_links = list(dict.fromkeys(link for link in links if isinstance(link, str) and link.strip()))
    original = {link: index.candidates(link) for link in unique_links}
    sole = {link: found[0] for link, found in original.items() if len(found) == 1}
    several = {link: found for link, found in original.items() if len(found) > 1}
    wanted_by: dict[str, list[str]] = {}
    for link, found in several.items():
        for path in found:
            wanted_by.setdefault(path, []).append(link)
    starved: dict[str, list[str]] = {}
    taken: set[str] = set()
    newly = set(sole.values())
    while newly:
        taken |= newly
        touched = dict.fromkeys(link for path in sorted(newly) for link in wanted_by.get(path, ()) if link in several)
        newly = set()
        for link in touched:
            found = several.pop(link)
            left = [path for path in found if path not in taken]
            if len(left) == 1:
                sole[link] = left[0]
                newly.add(left[0])
            elif left:
                several[link] = left
            else:
                starved[link] = original[link]
        newly -= taken
    claims: dict[str, list[str]] = {}
    for link in unique_links:
        for path in [sole[link]] if link in sole else starved.get(link, []):
            claims.setdefault(path, []).append(link)
    contested = {path: group for path, group in claims.items() if len(group) > 1}
    matched = {link: sole[link] for link in unique_links if link in sole and sole[link] not in contested}
    ambiguous = {link: several[link] for link in unique_links if link in several}
    missing = [link for link in unique_links if not original[link]]
    used = set(claims) | {path for group in ambiguous.values() for path in group}
    unreferenced = [path for path in paths if path not in used]
    return FileMatch(matched, missing, ambiguous, contested, unreferenced)
