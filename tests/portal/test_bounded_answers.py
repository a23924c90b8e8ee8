"""Every answer about a datapack's problems is bounded, whatever was sent: problems are not repeated,
each names at most a few candidates ("… and 997 more"), and the list stops at a size with a count
of the rest. Checked on the amplification request that made 900 MB out of 765 KB, and over
generated documents and file lists up to every limit (hypothesis)."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.rules.assets import Asset, Limits
from portal.rules.links import match_links_to_files
from portal.rules.problems import MAX_PROBLEMS_BYTES, SHOWN_PER_PROBLEM, DatapackInvalid, Problem, bounded_problems, \
    quoted
from portal.services.upload_pipeline import plan_upload

MB = 1024 * 1024


def _document(links: list[str], name: str = "Amplified") -> dict:
    return {"info": {"name": name, "author": "a", "description": "", "keywords": []},
            "children": [{"class": "data", "name": f"n{index}", "text": "", "link": link}
                         for index, link in enumerate(links)]}


def _unreadable():
    raise AssertionError("planning never reads a file")


def _assets(paths: list[str]) -> list[Asset]:
    return [Asset(path, 10, _unreadable) for path in paths]


def _answer_bytes(answer) -> int:
    return len(answer.get_data())


def test_the_amplification_request_is_answered_in_under_a_megabyte(client, auth, repovizz2):
    """Nodes whose links each match every one of 1000 files in 1000 folders (by file name), the
    paths long: every problem used to name every candidate (982 MB out for 765 KB in)."""
    auth.login()
    folder = "f" * 400
    files = [{"path": f"{folder}{index}/data.bin", "size": 10} for index in range(1000)]
    links = [f"x{index}/data.bin" for index in range(3000)]
    body = json.dumps({"document": _document(links), "files": files})
    answer = client.post("/api/datapacks", data=body, content_type="application/json")
    assert answer.status_code == 422
    assert _answer_bytes(answer) < MB
    problems = answer.json["problems"]
    assert "matches several files" in problems[0] and f"… and {1000 - SHOWN_PER_PROBLEM} more" in problems[0]
    assert problems[-1].startswith("… and ") and problems[-1].endswith("more problems, not listed here")
    assert repovizz2.log == []  # refused before anything was asked of repovizz2


def test_the_check_call_repeats_no_deep_trail_of_long_names_for_each_file(client, auth, repovizz2):
    """900 files at the bottom of 39 containers named with 200 characters each: every match used to
    repeat the whole trail of names; now at most its last 200 characters, whatever the depth."""
    auth.login()
    top = {"class": "container", "name": "C" * 200, "children": []}
    document = {"info": {"name": "Deep", "author": "a", "description": "", "keywords": []}, "children": [top]}
    for _ in range(38):
        child = {"class": "container", "name": "C" * 200, "children": []}
        top["children"].append(child)
        top = child
    top["children"] += [{"class": "data", "name": "x", "text": "", "link": f"f{index}.csv", "mime": "text/csv"}
                        for index in range(900)]
    body = json.dumps({"document": document, "files": [{"path": f"f{index}.csv", "size": 10} for index in range(900)]})
    answer = client.post("/api/datapacks/check", data=body, content_type="application/json")
    assert answer.status_code == 200
    assert len(answer.json["matches"]) == 900
    assert all(len(match["where"]) <= 200 and match["where"].endswith("x") for match in answer.json["matches"])
    assert _answer_bytes(answer) < MB
    assert repovizz2.log == []  # a check creates nothing


def test_a_problem_quotes_at_most_a_part_of_a_long_path():
    assert quoted("a" * 5000) == repr("a" * 200) + "… (5000 characters)"
    match = match_links_to_files(["data.bin"], [f"{'d' * 900}{index}/data.bin" for index in range(50)])
    (problem,) = match.problems
    assert len(problem) < 2000 and "… and 45 more" in problem


def test_problems_are_not_repeated_and_stop_at_the_cap():
    many = [Problem(f"problem {index % 3000}") for index in range(100_000)]
    kept = bounded_problems(many)
    assert len({str(problem) for problem in kept}) == len(kept)
    assert sum(len(json.dumps(problem.as_dict())) for problem in kept) < MAX_PROBLEMS_BYTES + 1024
    assert kept[-1] == "… and 0 more problems, not listed here" or kept[-1].startswith("… and ")
    assert bounded_problems([Problem("one"), Problem("one")]) == ["one"]


def test_the_contested_files_and_shared_links_name_a_few_of_their_links():
    links = [f"{'a' * 300}{index}/same.bin" for index in range(400)]
    match = match_links_to_files(links, ["same.bin"])
    (problem,) = match.problems
    assert "is matched by several links" in problem and "… and 395 more" in problem
    document = _document(["same.bin"] * 400)
    try:
        plan_upload(document, _assets(["same.bin"]), Limits(max_files=1000, max_asset_bytes=MB))
    except DatapackInvalid as invalid:
        (shared,) = [problem for problem in invalid.problems if "data nodes" in problem]
        assert "… and 395 more" in shared and len(shared) < 2000
    else:
        raise AssertionError("a link used by 400 nodes was accepted")


# Documents and file lists up to every limit: up to the API's 1000 files, paths up to the link limit
# (1024 characters), links that match one, several or no files, unsafe links, repeated links.
LINK_STYLES = ("by name", "exact", "missing", "repeated", "unsafe", "long")


@st.composite
def uploads(draw):
    file_count = draw(st.integers(0, 1000))
    folders = draw(st.integers(1, 1000))
    path_length = draw(st.integers(1, 1000))
    node_count = draw(st.integers(0, 3000))
    style = draw(st.sampled_from(LINK_STYLES))
    names = draw(st.integers(1, 5))
    stem = "p" * path_length
    paths = [f"{stem[:path_length]}{index % folders}/{index % names}-{index // folders}.bin"
             for index in range(file_count)]
    link_of = {
        "by name": lambda index: f"elsewhere{index}/{index % names}-0.bin",
        "exact": lambda index: paths[index % len(paths)] if paths else f"{index}.bin",
        "missing": lambda index: f"{stem[:min(path_length, 1000)]}/absent{index}.bin",
        "repeated": lambda index: f"{index % 3}-0.bin",
        "unsafe": lambda index: f"../{stem}{index}",
        "long": lambda index: "l" * 1100 + str(index),
    }[style]
    return _document([link_of(index) for index in range(node_count)]), paths


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(uploads())
def test_any_document_and_file_list_gets_a_bounded_answer(upload):
    document, paths = upload
    try:
        plan_upload(document, _assets(paths), Limits(max_files=1000, max_asset_bytes=MB))
    except DatapackInvalid as invalid:
        details = json.dumps({"problems": [str(problem) for problem in invalid.problems],
                              "problem_details": [problem.as_dict() for problem in invalid.problems]})
        assert len(details.encode()) < MB
        assert sum(len(json.dumps(problem.as_dict()).encode()) for problem in invalid.problems[:-1]) \
            <= MAX_PROBLEMS_BYTES
        assert len(set(invalid.problems)) == len(invalid.problems)
