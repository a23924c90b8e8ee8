"""The contract: the sandbox (its own code) and the portal (its own code) read the public schema alike.

Every document of the corpus gets the public schema's verdict from both. What the portal refuses
for a *new* upload on top of that is its own choice, listed here and in docs/sandbox.md with why.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from portal.rules.datapack_rules import schema_problems, upload_problems
from sandbox.schema import document_problems as sandbox_problems
from tests.contract.corpus import ACCEPTED, REFUSED

DOCS = Path(__file__).resolve().parents[2] / "docs" / "sandbox.md"
CORPUS = {**{name: (document, True) for name, document in ACCEPTED.items()},
          **{name: (document, False) for name, document in REFUSED.items()}}
# Documents repovizz2 accepts that the portal will not create, and the portal's reason.
PORTAL_ONLY_REFUSES = {
    "mime null": "mime",
    "mime a number": "mime",
    "mime an object": "mime",
    "empty info name": "'name' must not be empty",
    "40 nested containers": "nested more than 40 levels deep",
    "60 nested containers": "nested more than 40 levels deep",
    "two nodes with the same link": "is used by 2 data nodes",
}


def test_the_corpus_is_large_enough_and_covers_both_verdicts():
    assert len(CORPUS) >= 40
    assert len(ACCEPTED) >= 20 and len(REFUSED) >= 20


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_sandbox_and_portal_give_the_public_schemas_verdict(name):
    document, accepted = CORPUS[name]
    assert (sandbox_problems(document) == []) == accepted, sandbox_problems(document)
    assert (schema_problems(document) == []) == accepted, [str(problem) for problem in schema_problems(document)]


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_the_portal_refuses_more_only_where_it_says_so(name):
    document, accepted = CORPUS[name]
    refused = [str(problem) for problem in upload_problems(document)]
    if not accepted:
        assert refused
    elif name in PORTAL_ONLY_REFUSES:
        assert refused and all(text.startswith("the portal's own check: ") for text in refused), refused
        assert any(PORTAL_ONLY_REFUSES[name] in text for text in refused), refused
    else:
        assert refused == []


def test_every_disagreement_is_listed_in_the_sandbox_docs():
    section = DOCS.read_text().split("## Where the portal is stricter than repovizz2", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"\*\*(.+?)\*\*", section))
    assert listed == set(PORTAL_ONLY_REFUSES)
