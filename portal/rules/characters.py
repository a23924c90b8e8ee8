"""Characters a name, a text or a link cannot hold as they are: control characters (a text may keep
its line breaks and tabs) and lone surrogates (half of a character, which no page can encode), and
bidirectional controls (which make a text display differently from what it is)."""
from __future__ import annotations

import re

# C0 and C1 control characters and DEL; a text (a node's text, a description) may hold line breaks and tabs.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
SURROGATE = re.compile(r"[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# Bidirectional embeddings, overrides and isolates: they make text display differently from what it is.
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")


def neutralised(text: str) -> str:
    """`text` with each bidirectional control written as its code (``[U+202E]``), for a page to show."""
    return BIDI.sub(lambda found: f"[U+{ord(found.group()):04X}]", text)


def control_character_reason(value, *, multiline: bool = False) -> str | None:
    """Why a name (or, with `multiline`, a text) cannot be stored as it is, or None."""
    if not isinstance(value, str):
        return None
    found = (CONTROL_IN_TEXT if multiline else CONTROL).search(value)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X}); remove it"
    found = BIDI.search(value)
    if found:
        return (f"contains a bidirectional control (U+{ord(found.group()):04X}), which makes it display "
                "differently from what it is; remove it")
    if SURROGATE.search(value):
        return "contains a lone surrogate (half of a character); remove it"
    return None


def without_surrogates(text: str) -> str:
    """`text` with each lone surrogate replaced by U+FFFD (the replacement character)."""
    return SURROGATE.sub("\ufffd", text)
