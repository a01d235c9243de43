"""Syncing an agency's export to the hub: encode, submit, retract, report — resumably.

One sync:

1. reads and encodes the export (:func:`~api.gateway.export_reader.scan_export`);
2. compares each record's fingerprint with what the local store says the hub
   has: *added* (new), *changed* (fingerprint moved), *unchanged* (same and
   accepted before), and *gone* (in the store, absent from the export);
3. stages the new fingerprints in the local store (one transaction), then
   submits added and changed records in batches; each batch the hub accepts is
   marked synced at once, so a sync killed at any point resumes where it
   stopped — a record is either marked (the hub has it) or staged (it is sent
   again; the hub's upsert by record id makes a repeat harmless);
4. retracts the gone records at the hub (``DELETE /v1/records/{id}``; a 404 means
   the hub never had it) and forgets them locally;
5. reports the counts, the refusals with their reasons (never content), and the
   canonical columns the export lacked.

A hub that is down or failing is retried with exponential back-off; a refused
batch (422) is resubmitted without the lines the hub named, which are reported.
A refused token (401/403) stops the sync at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from tqdm import tqdm

from api.gateway.export_reader import ExportRow, scan_export
from api.gateway.local_store import LocalStore
from linkage.encode.encoding import RecordEncoder

__all__ = ["HubWriter", "RetryPolicy", "SyncAborted", "SyncReport", "sync_export"]

log = logging.getLogger(__name__)


class SyncAborted(Exception):
    """The sync stopped before the end (hub refused the token, or stayed down)."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long to keep trying a hub that does not answer."""

    attempts: int = 8
    first_wait: float = 0.5
    max_wait: float = 30.0
    sleep: Callable[[float], None] = time.sleep

    def waits(self) -> list[float]:
        """The waits between attempts."""
        return [min(self.max_wait, self.first_wait * 2**n) for n in range(self.attempts - 1)]


@dataclass
class SyncReport:
    """What one sync did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    retracted: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)  # (where or record id, reason)
    missing_columns: list[str] = field(default_factory=list)
    unparseable: dict[str, int] = field(default_factory=dict)
    completed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "added": self.added,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "retracted": self.retracted,
            "refused": [{"where": w, "reason": r} for w, r in self.refused],
            "missing_columns": self.missing_columns,
            "unparseable": self.unparseable,
            "completed": self.completed,
        }

    def lines(self) -> list[str]:
        """The report as text lines (no record content, only ids and reasons)."""
        out = [
            f"added {self.added}, changed {self.changed}, unchanged {self.unchanged}, "
            f"retracted {self.retracted}, refused {len(self.refused)}"
            + ("" if self.completed else " (incomplete: run the sync again to resume)")
        ]
        if self.missing_columns:
            out.append("columns absent from the export (treated as empty): "
                       + ", ".join(self.missing_columns))  # fmt: skip
        out += [f"refused {where}: {reason}" for where, reason in self.refused[:200]]
        return out


class HubWriter(Protocol):
    """The two writes a sync makes (an httpx.Client with the steward's token fits)."""

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response: ...

    def delete(self, url: str) -> httpx.Response: ...


def sync_export(
    path: Path,
    *,
    encoder: RecordEncoder,
    store: LocalStore,
    hub: HubWriter,
    context: dict[str, tuple[str, ...]] | None = None,
    batch_size: int = 1000,
    retry: RetryPolicy | None = None,
    progress: bool = False,
) -> SyncReport:
    """Sync the export at ``path`` to the hub (see the module docstring).

    Raises:
        InputDataError: the export cannot be read at all (nothing is sent).
        SyncAborted: the hub refused the token or stayed down; the report so far
            is attached as ``exc.args[1]`` and a later sync resumes.
    """
    retry = retry or RetryPolicy()
    scan = scan_export(path, encoder, context or {})
    report = SyncReport(refused=list(scan.refused), missing_columns=list(scan.missing_columns),
                        unparseable=dict(scan.unparseable))  # fmt: skip
    known = store.fingerprints()
    to_send: list[ExportRow] = []
    changed: set[str] = set()  # record ids the hub had in another form
    for row in scan.rows:
        before = known.get(row.record_id)
        if before is not None and before == (row.fingerprint, True):
            report.unchanged += 1
            continue
        to_send.append(row)
        if before is not None and before[1]:
            changed.add(row.record_id)
    present = {row.record_id for row in scan.rows}
    gone = sorted(rid for rid in known if rid not in present)
    store.stage((r.record_id, r.identity, r.fingerprint) for r in to_send)

    def accepted(record_ids: list[str]) -> None:
        store.mark_synced(record_ids)
        report.changed += sum(rid in changed for rid in record_ids)
        report.added += sum(rid not in changed for rid in record_ids)

    try:
        _submit_all(hub, to_send, batch_size, retry, report, accepted, progress)
        report.retracted = _retract_all(hub, store, gone, retry)
    except SyncAborted as exc:
        raise SyncAborted(str(exc), report) from exc
    report.completed = True
    return report


def _submit_all(
    hub: HubWriter,
    rows: Sequence[ExportRow],
    batch_size: int,
    retry: RetryPolicy,
    report: SyncReport,
    accepted: Callable[[list[str]], None],
    progress: bool,
) -> None:
    with tqdm(total=len(rows), unit="rec", disable=not progress, desc="sync") as bar:
        for start in range(0, len(rows), max(1, batch_size)):
            batch = list(rows[start : start + batch_size])
            accepted([r.record_id for r in _submit_batch(hub, batch, retry, report)])
            bar.update(len(batch))


def _submit_batch(
    hub: HubWriter, batch: list[ExportRow], retry: RetryPolicy, report: SyncReport
) -> list[ExportRow]:
    """Submit until the hub accepts what is left; returns the accepted rows."""
    while batch:
        body = b"".join(row.line + b"\n" for row in batch)
        response = _with_retries(
            retry,
            lambda body=body: hub.post(  # type: ignore[misc]
                "/v1/records", content=body, headers={"Content-Type": "application/x-ndjson"}
            ),
        )
        if response.status_code == 200:
            return batch
        bad = _refused_lines(response, len(batch))
        if not bad:  # refused as a whole, not line by line: report every record
            report.refused += [
                (r.record_id, f"refused_by_hub_{response.status_code}") for r in batch
            ]
            return []
        report.refused += [(batch[i].record_id, reason) for i, reason in sorted(bad.items())]
        batch = [row for i, row in enumerate(batch) if i not in bad]
    return []


def _refused_lines(response: httpx.Response, size: int) -> dict[int, str]:
    """Line index → reason of the hub's 422 problems (empty when it named none)."""
    if response.status_code != 422:
        return {}
    try:
        problems = response.json().get("problems", [])
    except (ValueError, AttributeError):
        return {}
    out: dict[int, str] = {}
    for problem in problems:
        line = problem.get("line") if isinstance(problem, dict) else None
        if isinstance(line, int) and 1 <= line <= size:
            out.setdefault(line - 1, str(problem.get("reason", "refused")))
    return out


def _retract_all(hub: HubWriter, store: LocalStore, gone: list[str], retry: RetryPolicy) -> int:
    done = 0
    for record_id in gone:
        path = f"/v1/records/{quote(record_id, safe='')}"
        response = _with_retries(retry, lambda path=path: hub.delete(path))  # type: ignore[misc]
        if response.status_code in (200, 204, 404):  # 404: the hub never had it
            store.forget([record_id])
            done += response.status_code != 404
    return done


def _with_retries(retry: RetryPolicy, call: Callable[[], httpx.Response]) -> httpx.Response:
    waits = retry.waits()
    for attempt in range(retry.attempts):
        try:
            response = call()
        except httpx.TransportError as exc:
            log.warning("hub unreachable (%s)", type(exc).__name__)
        else:
            if response.status_code in (401, 403):
                raise SyncAborted(f"the hub refused the token ({response.status_code})")
            if response.status_code < 500 and response.status_code != 429:
                return response
            log.warning("hub answered %d; retrying", response.status_code)
        if attempt < len(waits):
            retry.sleep(waits[attempt])
    raise SyncAborted("the hub stayed unavailable; run the sync again to resume")
