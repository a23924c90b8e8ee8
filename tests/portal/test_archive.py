"""Reading a datapack out of a .zip (portal/archive.py): the safety checks made from the zip's
directory before anything is decompressed, and finding the one document among the JSON files."""
from __future__ import annotations

import io
import json
import stat
import struct
import zipfile

import pytest

from portal.rules.assets import find_document, is_ignored
from portal.rules.zip_archive import MAX_COMPRESSION_RATIO, zip_assets
from portal.rules.datapack_rules import DatapackInvalid
from portal.rules.assets import Asset
from tests.portal.samples import DOCUMENT

DOC = json.dumps(DOCUMENT).encode()
SENSOR = b"[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]"
MB = 1000 * 1000
LIMITS = {"max_files": 10, "max_total_bytes": 100 * MB}
MAX_JSON = 64 * 1024


def make_zip(*entries, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    """A zip in memory; an entry is (name or ZipInfo, bytes), or a name ending in "/" for a folder."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for entry in entries:
            if isinstance(entry, str):
                archive.mkdir(entry.rstrip("/")) if hasattr(archive, "mkdir") else archive.writestr(entry, b"")
            else:
                name, data = entry
                archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def problems(fileobj, **limits) -> list[str]:
    with pytest.raises(DatapackInvalid) as caught:
        zip_assets(fileobj, **{**LIMITS, **limits})
    return caught.value.problems


def read(asset: Asset) -> bytes:
    with asset.open() as source:
        return source.read()


def patch_headers(fileobj: io.BytesIO, *, local: dict[int, tuple[str, int]], central: dict[int, tuple[str, int]]):
    """Overwrite fields of the first entry's local header and central directory record (offset → (struct, value))."""
    raw = bytearray(fileobj.getvalue())
    for signature, fields in ((b"PK\x03\x04", local), (b"PK\x01\x02", central)):
        start = raw.find(signature)
        for offset, (fmt, value) in fields.items():
            struct.pack_into(fmt, raw, start + offset, value)
    return io.BytesIO(bytes(raw))


@pytest.fixture
def no_decompression(monkeypatch):
    """Fails the test if an entry of the archive is opened for reading (let alone decompressed)."""
    original = zipfile.ZipFile.open

    def refuse(self, name, mode="r", *args, **kwargs):
        if mode == "w":  # the test building its zip
            return original(self, name, mode, *args, **kwargs)
        raise AssertionError("an entry was opened before the archive was found safe")

    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


# -- good archives --------------------------------------------------------------------------

def test_document_at_the_top():
    zipped = make_zip(("datapack.json", DOC), ("video.mp4", b"v" * 1000), ("emg 2.json", SENSOR))
    assets = zip_assets(zipped, **LIMITS)
    assert [(asset.path, asset.size) for asset in assets] == [
        ("datapack.json", len(DOC)), ("video.mp4", 1000), ("emg 2.json", len(SENSOR))]
    assert [read(asset) for asset in assets] == [DOC, b"v" * 1000, SENSOR]
    document_asset, document = find_document(assets, MAX_JSON)
    assert document_asset is assets[0]
    assert document == DOCUMENT


def test_document_inside_one_folder_with_folder_entries():
    zipped = make_zip("MYO pack/", ("MYO pack/datapack.json", DOC), "MYO pack/sensors/",
                      ("MYO pack/video.mp4", b"v"), ("MYO pack/sensors/emg 2.json", SENSOR))
    assets = zip_assets(zipped, **LIMITS)
    assert [asset.path for asset in assets] == [
        "MYO pack/datapack.json", "MYO pack/video.mp4", "MYO pack/sensors/emg 2.json"]
    document_asset, document = find_document(assets, MAX_JSON)
    assert document_asset.path == "MYO pack/datapack.json"
    assert document == DOCUMENT


def test_stored_and_unicode_names():
    zipped = make_zip(("señal ✓/datapack.json", DOC), ("señal ✓/données.csv", b"1,2"), compression=zipfile.ZIP_STORED)
    assets = zip_assets(zipped, **LIMITS)
    assert [asset.path for asset in assets] == ["señal ✓/datapack.json", "señal ✓/données.csv"]
    assert read(assets[1]) == b"1,2"


def test_backslashes_and_dot_segments_in_entry_names_are_normalised():
    zipped = make_zip(("pack\\datapack.json", DOC), ("./pack/video.mp4", b"v"))
    assert [asset.path for asset in zip_assets(zipped, **LIMITS)] == ["pack/datapack.json", "pack/video.mp4"]


def test_assets_read_straight_from_the_archive_and_can_be_reopened():
    zipped = make_zip(("datapack.json", DOC), ("a.bin", b"a" * 100_000), ("b.bin", b"b" * 100_000))
    assets = zip_assets(zipped, **LIMITS)
    with assets[1].open() as first, assets[2].open() as second:
        assert isinstance(first, zipfile.ZipExtFile)  # a stream over the archive, not a copy
        assert first.read(10) == b"a" * 10 and second.read(10) == b"b" * 10
        assert first.read() == b"a" * 99_990 and second.read() == b"b" * 99_990
    assert read(assets[1]) == b"a" * 100_000


def test_desktop_litter_is_ignored_and_not_counted():
    zipped = make_zip(("pack/datapack.json", DOC), ("pack/video.mp4", b"v"),
                      ("__MACOSX/pack/._datapack.json", b"\x00\x05\x16\x07junk"), ("__MACOSX/pack/._video.mp4", b"j"),
                      ("pack/.DS_Store", b"junk"), ("pack/sub/.DS_Store", b"junk"), ("pack/Thumbs.db", b"junk"),
                      ("pack/desktop.ini", b"junk"), ("pack/._video.mp4", b"junk"))
    assets = zip_assets(zipped, max_files=1, max_total_bytes=1000)
    assert [asset.path for asset in assets] == ["pack/datapack.json", "pack/video.mp4"]
    assert find_document(assets, MAX_JSON)[1] == DOCUMENT


@pytest.mark.parametrize(("path", "ignored"), [
    ("__MACOSX/pack/._a.json", True),
    (".DS_Store", True),
    ("pack/.DS_Store", True),
    ("pack/Thumbs.db", True),
    ("desktop.ini", True),
    ("pack/._emg.json", True),
    ("pack/emg.json", False),
    ("pack/MACOSX/a.json", False),
    ("pack/.hidden.json", False),
    ("pack/DS_Store.json", False),
])
def test_is_ignored(path, ignored):
    assert is_ignored(path) is ignored


# -- unsafe archives: refused from the directory alone ----------------------------------------

def test_not_a_zip(no_decompression):
    assert problems(io.BytesIO(b"this is not a zip at all")) == ["archive: is not a readable .zip file"]
    assert problems(io.BytesIO(b"")) == ["archive: is not a readable .zip file"]


def test_truncated_zip():
    whole = make_zip(("datapack.json", DOC), ("video.mp4", b"v" * 1000)).getvalue()
    assert problems(io.BytesIO(whole[: len(whole) // 2])) == ["archive: is not a readable .zip file"]


@pytest.mark.parametrize("central", [
    {6: ("<H", 0xFF)},  # needs a zip version from the future
    {8: ("<H", 0x800), 46: ("<B", 0xFF)},  # says its name is UTF-8, but it is not
], ids=["future version", "bad utf-8 name"])
def test_a_directory_zipfile_cannot_read(no_decompression, central):
    zipped = patch_headers(make_zip(("datapack.json", DOC)), local={}, central=central)
    assert problems(zipped) == ["archive: is not a readable .zip file"]


def test_zip_slip(no_decompression):
    zipped = make_zip(("datapack.json", DOC), ("../evil.sh", b"rm -rf"), ("pack/../../evil.py", b"x"),
                      ("..\\windows.bat", b"x"))
    assert problems(zipped) == [
        "archive entry '../evil.sh': goes up a folder with '..'",
        "archive entry 'pack/../../evil.py': goes up a folder with '..'",
        "archive entry '..\\\\windows.bat': goes up a folder with '..'",
    ]


def test_absolute_paths(no_decompression):
    zipped = make_zip(("datapack.json", DOC), (zipfile.ZipInfo("/etc/cron.d/evil"), b"x"),
                      ("C:\\Windows\\evil.dll", b"x"))
    assert problems(zipped) == [
        "archive entry '/etc/cron.d/evil': is an absolute path",
        "archive entry 'C:\\\\Windows\\\\evil.dll': is an absolute path",
    ]


def test_symlink_entry(no_decompression):
    link = zipfile.ZipInfo("pack/passwd.json")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zipped = make_zip(("pack/datapack.json", DOC), (link, b"/etc/passwd"))
    assert problems(zipped) == ["archive entry 'pack/passwd.json': is a symbolic link"]


def test_a_regular_file_with_unix_permissions_is_fine():
    plain = zipfile.ZipInfo("pack/run.sh")
    plain.create_system = 3
    plain.external_attr = (stat.S_IFREG | 0o755) << 16
    assets = zip_assets(make_zip(("pack/datapack.json", DOC), (plain, b"#!/bin/sh")), **LIMITS)
    assert [asset.path for asset in assets] == ["pack/datapack.json", "pack/run.sh"]


def test_too_many_entries(no_decompression):
    zipped = make_zip(("datapack.json", DOC), *((f"f{i}.txt", b"x") for i in range(4)))
    assert problems(zipped, max_files=3) == ["archive: holds 5 files; the limit is 3 per datapack, plus its document"]


def test_as_many_entries_as_allowed_plus_the_document():
    zipped = make_zip(("datapack.json", DOC), *((f"f{i}.txt", b"x") for i in range(3)))
    assert len(zip_assets(zipped, max_files=3, max_total_bytes=MB)) == 4


def test_too_large_in_total(no_decompression):
    zipped = make_zip(("datapack.json", DOC), ("a.bin", b"a" * 600_000), ("b.bin", b"b" * 600_000))
    assert problems(zipped, max_total_bytes=MB) == ["archive: would unpack to 1.2 MB; the limit is 1.0 MB"]


def test_zip_bomb(no_decompression):
    zipped = make_zip(("datapack.json", DOC), ("zeros.bin", bytes(50 * MB)))
    assert len(zipped.getvalue()) < 100_000
    assert problems(zipped) == [f"archive entry 'zeros.bin': is compressed more than {MAX_COMPRESSION_RATIO}:1 "
                                "(a zip bomb?)"]


def test_zip_bomb_beyond_the_total_is_both_problems(no_decompression):
    zipped = make_zip(("datapack.json", DOC), ("zeros.bin", bytes(50 * MB)))
    assert problems(zipped, max_total_bytes=10 * MB) == [
        "archive: would unpack to 50.0 MB; the limit is 10.0 MB",
        "archive entry 'zeros.bin': is compressed more than 200:1 (a zip bomb?)",
    ]


def test_small_files_that_compress_well_are_fine():
    zipped = make_zip(("datapack.json", DOC), ("zeros.bin", bytes(MB)))  # under 1 MiB: a ratio says little
    assert [asset.size for asset in zip_assets(zipped, **LIMITS)] == [len(DOC), MB]


def test_every_problem_at_once(no_decompression):
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zipped = make_zip(("datapack.json", DOC), ("../up", b"x"), (link, b"target"), ("/abs", b"x"))
    assert problems(zipped, max_files=1) == [
        "archive: holds 4 files; the limit is 1 per datapack, plus its document",
        "archive entry '../up': goes up a folder with '..'",
        "archive entry 'link': is a symbolic link",
        "archive entry '/abs': is an absolute path",
    ]


def test_encrypted_entry(no_decompression):
    zipped = patch_headers(make_zip(("secret.bin", b"x" * 100), ("datapack.json", DOC)),
                           local={6: ("<H", 0x1)}, central={8: ("<H", 0x1)})
    assert problems(zipped) == ["archive entry 'secret.bin': is encrypted; send a .zip without a password"]


def test_unreadable_compression_method(no_decompression):
    zipped = patch_headers(make_zip(("big.bin", b"x" * 100), ("datapack.json", DOC)),
                           local={8: ("<H", 9)}, central={10: ("<H", 9)})
    assert problems(zipped) == ["archive entry 'big.bin': is compressed with deflate64, which cannot be read; "
                                "zip it again with the usual (deflate) compression"]


def test_local_header_that_disagrees_with_the_directory():
    zipped = patch_headers(make_zip(("video.mp4", b"v" * 100), ("datapack.json", DOC)),
                           local={30: ("<B", ord("X"))}, central={})
    assert problems(zipped) == ["archive entry 'video.mp4': is damaged"]


def test_an_entry_never_gives_more_than_its_declared_size():
    # The directory says 100 bytes, the data holds 10 000: reading stops at 100 and the archive is refused.
    zipped = patch_headers(make_zip(("datapack.json", DOC), ("a.bin", b"x" * 10_000)), local={}, central={})
    raw = bytearray(zipped.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = raw.find(signature, raw.find(signature) + 1)  # the second entry
        struct.pack_into("<I", raw, start + offset, 100)
    (document, lying) = zip_assets(io.BytesIO(bytes(raw)), **LIMITS)
    assert lying.size == 100
    with lying.open() as source, pytest.raises(zipfile.BadZipFile):
        while source.read(7):
            pass


# -- finding the document -----------------------------------------------------------------

def assets_of(*entries) -> list[Asset]:
    return zip_assets(make_zip(*entries), **LIMITS)


def test_no_document():
    assets = assets_of(("video.mp4", b"v"), ("emg.json", SENSOR), ("notes.json", b'{"info": "only"}'))
    with pytest.raises(DatapackInvalid) as caught:
        find_document(assets, MAX_JSON)
    assert caught.value.problems == ["no datapack document found: add the .json file that has 'info' and 'children'"]


def test_no_document_when_it_is_too_large_says_so():
    assets = assets_of(("video.mp4", b"v"), ("datapack.json", DOC))
    with pytest.raises(DatapackInvalid) as caught:
        find_document(assets, 100)
    assert caught.value.problems == [
        "no datapack document found: add the .json file that has 'info' and 'children' "
        "(.json files larger than 100 bytes are not read: 'datapack.json')"]


def test_two_documents_at_the_same_depth():
    assets = assets_of(("a/datapack.json", DOC), ("b/copy.json", DOC), ("a/video.mp4", b"v"))
    with pytest.raises(DatapackInvalid) as caught:
        find_document(assets, MAX_JSON)
    assert caught.value.problems == ["several datapack documents were found ('a/datapack.json', 'b/copy.json'): "
                                     "send one"]


def test_the_shallowest_document_wins():
    other = json.dumps({**DOCUMENT, "info": {**DOCUMENT["info"], "name": "old"}}).encode()
    assets = assets_of(("pack/old/datapack.json", other), ("pack/datapack.json", DOC), ("pack/x/y/z.json", other))
    document_asset, document = find_document(assets, MAX_JSON)
    assert document_asset.path == "pack/datapack.json" and document["info"]["name"] == "MYO"


def test_sensor_json_beside_the_document_is_not_mistaken_for_it():
    assets = assets_of(("emg 2.json", SENSOR), ("accelerometer.json", b'{"x": [1, 2], "rate": 100}'),
                       ("broken.json", b"{not json"), ("latin.json", '{"é": 1}'.encode("latin-1")),
                       ("deep.json", b"[" * 100_000 + b"]" * 100_000), ("datapack.json", DOC))
    document_asset, document = find_document(assets, 1024 * 1024)
    assert document_asset.path == "datapack.json" and document == DOCUMENT


def test_the_document_is_recognised_by_shape_not_name():
    assets = assets_of(("MYO_various.JSON", DOC), ("datapack.json", SENSOR), ("readme.txt", DOC))
    assert find_document(assets, MAX_JSON)[0].path == "MYO_various.JSON"


def test_a_document_that_breaks_the_rules_is_found_and_left_to_the_rules():
    broken = {**DOCUMENT, "children": [{"class": "data", "name": "x", "text": ""}]}
    assets = assets_of(("datapack.json", json.dumps(broken).encode()))
    assert find_document(assets, MAX_JSON)[1] == broken


def test_find_document_among_files_sent_without_a_zip():
    def asset(path, data):
        return Asset(path, len(data), lambda: io.BytesIO(data))

    assets = [asset("pack/emg 2.json", SENSOR), asset("pack/datapack.json", DOC), asset("pack/video.mp4", b"v")]
    assert find_document(assets, MAX_JSON) == (assets[1], DOCUMENT)
