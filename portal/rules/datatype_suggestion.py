"""Which datatype a data file probably holds, from its names, its media type and its number of channels.

A suggestion only: the builder and the node editor show it beside the datatype picker and the user
confirms it. The same rule, with the same cases (``tests/cases/datatype-suggestions.json``), runs in
the browser (``static/datatype-suggestion.js``).

    suggest_datatype("sensors/acc.csv", channels=3)  ->  3-axis accelerometer, 'the name says "acc" and it has 3 channels'
    count_channels("-1,1,0,-1,-1,-1,1,1\\n-2,-3,-1,-3,0,-2,-3,-2\\n")  ->  8
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

VIDEO = "e44ab9c4-a1b5-4474-b806-ece64555ef2b"
AUDIO = "48e3b5d2-c34c-459c-9a2d-0756c20d80de"
EMG = "0746bb48-9b92-4cd3-8d9e-3e1de13269eb"
ACCELEROMETER = "ae13fb70-fa1e-47d8-9cd6-00cef4fe21cc"
GYROSCOPE = "35524338-dec5-40ca-a099-1fff42fb5460"
ORIENTATION = "d4445fc6-0af0-42e0-979e-74a62b70b2ed"

# (datatype, its number of channels, the words of a file name that name it)
NAMED = (
    (EMG, 8, ("emg", "electromyography")),
    (ACCELEROMETER, 3, ("acc", "accel", "accelerometer", "accelerometers", "acceleration", "accelerations")),
    (GYROSCOPE, 3, ("gyr", "gyro", "gyros", "gyroscope", "gyroscopes")),
    (ORIENTATION, 3, ("ori", "orientation", "orientations", "euler", "rpy")),
)
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".ogv", ".mpg", ".mpeg")
AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".oga", ".flac", ".m4a", ".aac", ".opus", ".aif", ".aiff")
HEAD_BYTES = 16 * 1024  # how much of a file's start is read to count its channels
UPLOADED = "repovizz:"
MAX_ROWS = 5  # rows of a file's start that must agree on their number of channels
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FIRST_JSON_ROW = re.compile(r"\[\s*\[([^\[\]]*)\]")


@dataclass(frozen=True)
class Suggestion:
    datatype_id: str
    reason: str  # why, as the page says it: 'the name says "acc" and it has 3 channels'


def name_words(name: str) -> list[str]:
    """The words of a name, lower case: ``myoEMG_2.csv`` -> ``["myo", "emg", "csv"]``."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name if isinstance(name, str) else "")
    return re.findall(r"[a-z]+", spaced.lower())


def _plural(count: int) -> str:
    return f"{count} channel{'s' if count != 1 else ''}"


def suggest_datatype(*names: str, mime: str = "", channels: int | None = None) -> Suggestion | None:
    """The datatype these names (a file's name or path, a node's name), media type and channel count
    point to, or None when they point nowhere or to several."""
    base = (mime if isinstance(mime, str) else "").split(";")[0].strip().lower()
    # A path's folders say nothing, nor does an uploaded file's handle (``repovizz:<id>``).
    leaves = [name.rsplit("/", 1)[-1] for name in names if isinstance(name, str) and not name.startswith(UPLOADED)]
    extensions = {posixpath.splitext(leaf)[1].lower() for leaf in leaves}
    if base.startswith("video/"):
        return Suggestion(VIDEO, "it is a video file")
    if base.startswith("audio/"):
        return Suggestion(AUDIO, "it is an audio file")
    if extensions & set(VIDEO_EXTENSIONS):
        return Suggestion(VIDEO, "its name ends like a video file's")
    if extensions & set(AUDIO_EXTENSIONS):
        return Suggestion(AUDIO, "its name ends like an audio file's")
    words = [word for leaf in leaves for word in name_words(leaf)]
    named = [(datatype, count, word) for datatype, count, known in NAMED for word in words if word in known]
    if len({datatype for datatype, _, _ in named}) == 1:
        datatype, count, word = named[0]
        if channels is None:
            return Suggestion(datatype, f'the name says "{word}"')
        if channels == count:
            return Suggestion(datatype, f'the name says "{word}" and it has {_plural(count)}')
    if channels is not None:
        alike = [datatype for datatype, count, _ in NAMED if count == channels]
        if len(alike) == 1:
            return Suggestion(alike[0], f"it has {_plural(channels)}")
    return None


def _row_values(line: str) -> list[str]:
    for separator in ("\t", ";", ","):
        if separator in line:
            return [value.strip() for value in line.split(separator)]
    return line.split()


def count_channels(head: str, complete: bool = False) -> int | None:
    """The number of channels of a numeric stream, from the start of its text: JSON rows
    (``[[0.9, -0.3, 0.1], …]``) or lines of numbers separated by commas, tabs, semicolons or spaces,
    after at most one header line, with any line end. None when the start holds no such rows or they
    disagree. `complete` says `head` is the whole file (else its last line may be cut short)."""
    text = head.lstrip("\ufeff") if isinstance(head, str) else ""
    if text.lstrip().startswith("["):
        row = _FIRST_JSON_ROW.match(text.lstrip())
        values = [value.strip() for value in row.group(1).split(",")] if row else []
        return len(values) if values and all(_NUMBER.fullmatch(value) for value in values) else None
    lines = re.split(r"\r\n|\r|\n", text)
    if not complete:
        lines = lines[:-1]
    lines = [line.strip() for line in lines if line.strip()]
    counts = []
    for index, line in enumerate(lines):
        values = _row_values(line)
        if not all(_NUMBER.fullmatch(value) for value in values):
            if index == 0:
                continue  # a header row
            return None
        counts.append(len(values))
        if len(counts) == MAX_ROWS:
            break
    return counts[0] if counts and len(set(counts)) == 1 else None
