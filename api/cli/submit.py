"""``crosswalk submit``: send an encoded file to the hub in batches.

Batches are posted as ``application/x-ndjson`` to ``/v1/records``. Submission is
an idempotent upsert, so a batch that failed on the network is simply retried
(with back-off); a batch the hub refuses (422) stops the run and its per-record
reasons are printed with line numbers of the *file*. Nothing of a record's
content is printed — only line numbers, record ids and reason codes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from tqdm import tqdm

__all__ = ["submit_file"]

_RETRIES = 4


def _batches(path: Path, size: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(first line number, lines)`` per batch, skipping blank lines."""
    batch: list[bytes] = []
    first = 1
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            if not batch:
                first = number
            batch.append(line if line.endswith(b"\n") else line + b"\n")
            if len(batch) >= size:
                yield first, batch
                batch = []
    if batch:
        yield first, batch


def _post(client: httpx.Client, body: bytes) -> httpx.Response:
    for attempt in range(_RETRIES):
        try:
            response = client.post(
                "/v1/records", content=body, headers={"Content-Type": "application/x-ndjson"}
            )
            if response.status_code not in (502, 503, 504):
                return response
        except httpx.TransportError:
            if attempt == _RETRIES - 1:
                raise
        time.sleep(0.5 * 2**attempt)
    return response


def submit_file(path: Path, hub: str, token: str, *, batch_size: int, progress: bool) -> int:
    """Submit ``path``; returns the exit status (0 ok, 2 refused or failed)."""
    with path.open("rb") as handle:
        total = sum(1 for line in handle if line.strip())
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    with (
        httpx.Client(base_url=hub, headers=headers, timeout=120) as client,
        tqdm(total=total, unit="rec", disable=not progress, desc="submit") as bar,
    ):
        for first, lines in _batches(path, max(1, batch_size)):
            try:
                response = _post(client, b"".join(lines))
            except httpx.TransportError as exc:
                print(f"crosswalk submit: error: cannot reach {hub}: {exc}", file=sys.stderr)
                return 2
            if response.status_code != 200:
                _report_refusal(response, first)
                print(
                    f"crosswalk submit: {sent} records accepted before the refusal", file=sys.stderr
                )
                return 2
            sent += len(lines)
            bar.update(len(lines))
    print(f"crosswalk submit: {sent} records accepted", file=sys.stderr)
    return 0


def _report_refusal(response: httpx.Response, first_line: int) -> None:
    try:
        body = response.json()
    except ValueError:
        body = {}
    detail = body.get("detail", response.reason_phrase) if isinstance(body, dict) else ""
    print(f"crosswalk submit: error: HTTP {response.status_code}: {detail}", file=sys.stderr)
    for problem in body.get("problems", [])[:50] if isinstance(body, dict) else []:
        line = first_line + int(problem.get("line", 1)) - 1
        print(
            f"  line ~{line}: {problem.get('reason')} (record {problem.get('record_id')})",
            file=sys.stderr,
        )
