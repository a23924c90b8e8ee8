"""A short run of `benchmarks/load.py --hostile`: honest users through nginx while attackers run.

Two honest users, one slow client of each kind, and a few anonymous page views and large bodies;
nginx's client timeouts are cut to 3 s so that the slow clients are cut off within the test. Asserts
behaviour only (no timings): every honest user succeeds, anonymous traffic leaves no session and no
temporary file, every attacker got an answer or was cut off, a junk token gets its 401 at once and
the amplification requests are answered in under 1 MB.
"""
from __future__ import annotations

import pytest

from benchmarks.load import measure_hostile, parser
from tests.live_nginx import nginx_binary

pytestmark = pytest.mark.nginx


def test_honest_users_succeed_while_attackers_run(tmp_path):
    assert nginx_binary(), "this test needs nginx: `make test-deps` installs Debian's"
    args = parser().parse_args(["--hostile", "--users", "2", "--files", "2", "--file-mib", "1", "--workers", "1",
                                "--attack-seconds", "1", "--slow-per-kind", "1", "--anonymous-threads", "1",
                                "--page-views", "30", "--anonymous-bodies", "3", "--amplifications", "2"])
    got = measure_hostile(args, tmp_path, client_timeout=3)

    assert got["failures"] == []
    assert len(got["recorder"].page_seconds) == 2 * 4
    outcomes = got["tally"].outcomes
    assert set(outcomes) == {"silent", "dribble", "form body", "file body", "page view", "anonymous POST",
                             "anonymous PUT", "junk-token PUT", "amplification (junk token)",
                             "amplification (logged in)"}
    assert set(outcomes["page view"]) <= {"200", "302"}
    # Refused by nginx before the body is passed on: no cookie and no token.
    for kind in ("anonymous POST", "anonymous PUT"):
        assert set(outcomes[kind]) == {"401"}, outcomes[kind]
    # A token repovizz2 does not accept: 401 before the body is read, at once.
    assert set(outcomes["junk-token PUT"]) == {"401"}, outcomes["junk-token PUT"]
    assert max(got["tally"].held["junk-token PUT"]) < 2
    assert set(outcomes["amplification (junk token)"]) == {"401"}
    assert set(outcomes["amplification (logged in)"]) == {"422"}
    assert max(got["tally"].largest_answer.values()) < 1024 * 1024
    for kind in ("silent", "dribble", "form body", "file body"):
        assert "open at the end" not in outcomes[kind], outcomes[kind]
    assert got["tally"].session_cookies == 0
    assert got["anonymous_sessions"] == 0 and got["logins"] == 3
    assert got["temp_files"] == []
