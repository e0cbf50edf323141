"""Shared fixtures: the server address (NEARDUP_ADDR, set by tests/service.rs), the client and
the seed documents."""

from __future__ import annotations

import os
import pathlib
import sys
import uuid

import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parent.parent
REPO = EXAMPLES.parent.parent
sys.path.insert(0, str(EXAMPLES))

from neardup_client import NearDupClient  # noqa: E402


@pytest.fixture(scope="session")
def address() -> str:
    addr = os.environ.get("NEARDUP_ADDR")
    if not addr:
        pytest.fail("set NEARDUP_ADDR to a running `neardup serve` (cargo test does this)")
    return addr


@pytest.fixture(scope="session")
def client(address):
    with NearDupClient(address) as c:
        yield c


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses, so verdicts do not depend on test order."""
    return f"py-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def seeds() -> list[tuple[str, str]]:
    root = pathlib.Path(os.environ.get("NEARDUP_SEEDS") or REPO.parent / "shared" / "seeds")
    files = sorted(root.glob("*.txt"))
    assert len(files) == 5, f"expected the 5 seeds in {root}"
    return [(f.stem, f.read_text(encoding="utf-8")) for f in files]
