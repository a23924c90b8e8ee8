"""Reading and writing JSON strictly: what the standard allows and nothing else (no NaN or Infinity,
no lone surrogate, UTF-8 only), and writing any value as strict JSON without ever raising. Every
walk is iterative: a value nested as deep as a parser allows never raises RecursionError here."""
from __future__ import annotations

import json
import math
from typing import Iterator

from .characters import SURROGATE, SURROGATE_ESCAPE, without_surrogates


class JSONRefused(ValueError):
    """Text that is not strict JSON: `reason` says why, in words (e.g. "is not UTF-8 text")."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _reject_constant(name: str):
    raise JSONRefused(f"is not valid JSON ({name} is not a JSON number)")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JSONRefused(f"is not valid JSON ({text[:40]} is too large a number)")
    return value


def strict_json(text: str | bytes):
    """Parse JSON as the standard writes it: UTF-8, no NaN or Infinity (nor numbers so large they
    become one), no lone surrogate (``"\\ud800"``), nesting no deeper than Python can read.
    JSONRefused says what is wrong."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise JSONRefused("is not UTF-8 text") from None
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except JSONRefused:
        raise
    except json.JSONDecodeError as exc:
        message = exc.msg.removesuffix(" at")  # "Unterminated string starting at" ends in "at" itself
        raise JSONRefused(f"is not valid JSON ({message} at line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise JSONRefused("is nested too deeply to read") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise JSONRefused(f"is not valid JSON ({exc})") from None
    # A lone surrogate comes from the text itself or from a \\uD800-\\uDFFF escape: without either (as in
    # almost every document) the parsed value is not walked for one.
    surrogate = first_surrogate(value) if SURROGATE.search(text) or SURROGATE_ESCAPE.search(text) else None
    if surrogate:
        raise JSONRefused(f"contains a lone surrogate (\\u{ord(surrogate):04x}), which is not text")
    return value


def _strings(value) -> Iterator[str]:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str):
                    yield key
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)


def first_surrogate(value) -> str | None:
    for text in _strings(value):
        found = SURROGATE.search(text)
        if found:
            return found.group()
    return None


def _safe_text(text: str, ensure_ascii: bool) -> str:
    if not ensure_ascii and SURROGATE.search(text):
        ensure_ascii = True  # a lone surrogate is written as its \\u escape
    return json.dumps(text, ensure_ascii=ensure_ascii)


def _iterative_dumps(value, ensure_ascii: bool) -> str:
    """Compact JSON of any value, however deep, without recursion; NaN and infinities become null."""
    out: list[str] = []
    stack: list = [("value", value)]
    while stack:
        what, item = stack.pop()
        if what == "raw":
            out.append(item)
        elif isinstance(item, dict):
            out.append("{")
            entries = list(item.items())
            stack.append(("raw", "}"))
            for position in range(len(entries) - 1, -1, -1):
                key, child = entries[position]
                stack.append(("value", child))
                stack.append(("raw", ("," if position else "") + _safe_text(str(key), ensure_ascii) + ":"))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            stack.append(("raw", "]"))
            for position in range(len(item) - 1, -1, -1):
                stack.append(("value", item[position]))
                if position:
                    stack.append(("raw", ","))
        elif isinstance(item, str):
            out.append(_safe_text(item, ensure_ascii))
        elif isinstance(item, bool) or item is None:
            out.append(json.dumps(item))
        elif isinstance(item, int):
            out.append(int.__repr__(item))
        elif isinstance(item, float):
            out.append(float.__repr__(item) if math.isfinite(item) else "null")
        else:
            out.append(_safe_text(str(item), ensure_ascii))
    return "".join(out)


def to_json_text(value, *, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """`value` as strict JSON text, never raising: a lone surrogate is written as its ``\\u`` escape,
    NaN and infinities as null, and a value too deep for the standard encoder is written compactly
    by an iterative one. What the portal sends to a browser or a file always parses as JSON."""
    try:
        text = json.dumps(value, indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        return _iterative_dumps(value, ensure_ascii)
    # A lone surrogate can only sit inside a string literal: its escape there means the same.
    return text if ensure_ascii else SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def copy_json(value):
    """A deep copy of a JSON value, however deep, without recursion."""
    if not isinstance(value, (dict, list)):
        return value
    root = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in items:
            if isinstance(child, (dict, list)):
                copied = {} if isinstance(child, dict) else []
                stack.append((child, copied))
            else:
                copied = child
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def readable_copy(value):
    """A copy of a JSON value fit to show on a page: every lone surrogate in its strings (which no
    page can encode) replaced by U+FFFD. Values that need no change are returned as they are."""
    if first_surrogate(value) is None:
        return value
    copied = copy_json(value)
    stack = [copied]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key in list(item):
                child = item.pop(key)
                item[without_surrogates(key) if isinstance(key, str) else key] = without_surrogates(child) if isinstance(child, str) \
                    else child
                if isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                if isinstance(child, str):
                    item[index] = without_surrogates(child)
                elif isinstance(child, (dict, list)):
                    stack.append(child)
    return copied if not isinstance(value, str) else without_surrogates(value)


def too_deep_path(value, limit: int) -> list | None:
    """The JSON path of the first value nested more than `limit` levels inside `value`, or None."""
    stack = [(value, 0, None)]
    while stack:
        item, depth, path = stack.pop()
        if depth > limit:
            parts = []
            while path is not None:
                path, part = path
                parts.append(part)
            return parts[::-1]
        if isinstance(item, dict):
            stack.extend((child, depth + 1, (path, key)) for key, child in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((child, depth + 1, (path, index)) for index, child in reversed(list(enumerate(item))))
    return None
