"""No plaintext leaves the agency: every byte the gateway sends the hub is searched for it.

Every request the gateway makes — a sync of the whole export, resolves of
people typed in every date format, their views, a break-glass — is captured at
the transport (method, URL, headers, body), and none may contain any
identifier value of the agency's export, in the case it was typed or in the
case normalisation gives it. Values under five characters are left out of the
search: they turn up by chance in base64 (a filter of 1,000 bits holds ~170
characters), which proves nothing either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.gateway.program import Program, read_export, running_program

IDENTIFIER_COLUMNS = ("given_name", "middle_name", "family_name", "birth_date", "street_address",
                      "city", "postcode", "phone", "ssn")  # fmt: skip


class Recording:
    """Keeps the bytes of every request that passes."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def keep(self, request: httpx.Request) -> None:
        headers = b"\n".join(k + b": " + v for k, v in request.headers.raw)
        self.sent.append(b"\n".join([request.method.encode(), str(request.url).encode(),
                                     headers, request.content]))  # fmt: skip


class RecordingAsync(httpx.AsyncBaseTransport):
    """An async transport that records, then sends over the network."""

    def __init__(self, recording: Recording) -> None:
        self.recording, self.inner = recording, httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.recording.keep(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        """Close the network transport."""
        await self.inner.aclose()


class RecordingSync(httpx.BaseTransport):
    """A transport that records, then sends over the network."""

    def __init__(self, recording: Recording) -> None:
        self.recording, self.inner = recording, httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.recording.keep(request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        """Close the network transport."""
        self.inner.close()


@pytest.fixture
def program(database_url: str, tmp_path: Path, fixtures_dir: Path) -> Iterator[Program]:
    """The test program, every agency synced."""
    with running_program(database_url, tmp_path, fixtures_dir) as running:
        yield running


def _needles(rows: list[dict[str, str]]) -> set[bytes]:
    found: set[bytes] = set()
    for row in rows:
        for column in IDENTIFIER_COLUMNS:
            value = row.get(column, "").strip()
            if len(value) >= 5 and value.upper() not in {"UNKNOWN", "TRANSIENT"}:
                for form in {value, value.upper(), value.lower(), value.title()}:
                    found.add(form.encode())
    return found


def test_no_identifier_value_is_in_any_request_to_the_hub(program: Program) -> None:
    recording = Recording()
    rows = read_export(program.exports["police_cad"])
    program.sync("police_cad", transport=RecordingSync(recording))  # again: nothing new
    (program.gateway_settings("police_cad").state_dir / "gateway.db").unlink()
    program.sync("police_cad", transport=RecordingSync(recording))  # a fresh store: everything
    with program.gateway("police_cad", RecordingAsync(recording)) as gateway:
        for row in rows[:25]:
            fields = ("given_name", "family_name", "birth_date", "street_address", "city", "phone")
            query = {k: row[k] for k in fields if row[k]}
            found = gateway.post("/api/resolve", json=query, params={"purpose": "crisis_response"},
                                 headers=program.auth("officer"))  # fmt: skip
            assert found.status_code == 200, found.text
            for candidate in found.json()["candidates"][:1]:
                subject = candidate["subject_id"]
                gateway.get(f"/api/subjects/{subject}", params={"purpose": "public_safety"},
                            headers=program.auth("officer"))  # fmt: skip
                gateway.post(f"/api/subjects/{subject}/break-glass",
                             json={"purpose": "emergency", "reason": "person unresponsive"},
                             headers=program.auth("officer"))  # fmt: skip

    needles = _needles(rows)
    assert len(recording.sent) > 25 * 2
    assert len(needles) > 300
    leaks = {n.decode() for n in needles for sent in recording.sent if n in sent}
    assert not leaks, f"{len(leaks)} plaintext values reached the hub"
