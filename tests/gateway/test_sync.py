"""Sync: added, changed, unchanged, retracted, refused — and faults that lose nothing."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, func, select

from api.db import session_scope
from api.gateway.local_store import LocalStore
from api.gateway.sync import RetryPolicy, SyncAborted, sync_export
from api.hub.records.tables import StoredRecord
from linkage.encode.encoding import RecordEncoder
from linkage.encode.keys import LinkageSecret
from linkage.schema import default_schema
from tests.api.hub import Hub

NO_WAIT = RetryPolicy(attempts=3, first_wait=0, sleep=lambda _s: None)
CONTEXT = {"safety_flags": ("weapons", "officer_safety_note")}


@pytest.fixture
def export(fixtures_dir: Path, tmp_path: Path) -> Path:
    """A police export without an ``ssn`` column (most agencies have none)."""
    source = fixtures_dir / "synthetic" / "small" / "police_cad.csv"
    with source.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    target = tmp_path / "export.csv"
    _write(target, [{k: v for k, v in r.items() if k != "ssn"} for r in rows[:120]])
    return target


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def steward(hub: Hub) -> Iterator[TestClient]:
    """The police data steward's client of the hub."""
    token = hub.user("steward", "data_steward", "police_cad")
    hub.client.headers["Authorization"] = f"Bearer {token}"
    yield hub.client
    del hub.client.headers["Authorization"]


@pytest.fixture
def encoder(secret: LinkageSecret) -> RecordEncoder:
    """The police agency's encoder."""
    return RecordEncoder(default_schema(), secret, "police_cad")


def _live(hub: Hub) -> int:
    with session_scope(hub.engine) as session:
        query = (
            select(func.count())
            .select_from(StoredRecord)
            .where(col(StoredRecord.agency) == "police_cad", col(StoredRecord.retracted).is_(False))
        )
        return int(session.exec(query).one())


def _sync(export: Path, encoder: RecordEncoder, store: LocalStore, hub: Any, **kw: Any) -> Any:
    return sync_export(
        export, encoder=encoder, store=store, hub=hub, context=CONTEXT, batch_size=25,
        retry=NO_WAIT, **kw,
    )  # fmt: skip


def test_a_first_sync_adds_every_record_and_names_the_absent_column(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "state" / "gateway.db")

    report = _sync(export, encoder, store, steward)

    assert (report.added, report.changed, report.unchanged, report.retracted) == (120, 0, 0, 0)
    assert report.completed
    assert not report.refused
    assert report.missing_columns == ["ssn"]
    assert _live(hub) == 120
    assert (tmp_path / "state" / "gateway.db").stat().st_mode & 0o777 == 0o600


def test_a_second_sync_sees_changes_removals_and_nothing_else(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "gateway.db")
    _sync(export, encoder, store, steward)
    rows = _read(export)
    rows[0]["family_name"] = rows[0]["family_name"] + "SON"
    removed = rows.pop(5)["record_id"]
    _write(export, rows)

    report = _sync(export, encoder, store, steward)

    assert (report.added, report.changed, report.unchanged, report.retracted) == (0, 1, 118, 1)
    assert _live(hub) == 119
    assert store.get(removed) is None


def test_malformed_rows_are_refused_one_by_one_and_the_rest_synced(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    text = export.read_text()
    lines = text.splitlines()
    lines.insert(3, "CAD-BROKEN,only,three")  # wrong number of cells
    lines.insert(4, "," + lines[4].split(",", 1)[1])  # a copy of a row, without its record id
    lines.append(lines[10])  # a record id seen before
    export.write_text("\n".join(lines) + "\n")
    store = LocalStore(tmp_path / "gateway.db")

    report = _sync(export, encoder, store, steward)

    reasons = sorted(reason for _where, reason in report.refused)
    assert reasons == ["duplicate_record_id", "missing_record_id", "wrong_number_of_cells"]
    assert all("CAD-BROKEN" not in where and "only" not in where for where, _ in report.refused)
    assert report.added == 120  # every good row; the three bad ones are extra lines
    assert _live(hub) == 120


class FlakyHub:
    """A hub connection that fails after ``good`` posts, ``failures`` times in a row."""

    def __init__(self, client: TestClient, good: int, failures: int) -> None:
        self.client, self.good, self.failures, self.posts = client, good, failures, 0

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        self.posts += 1
        if self.posts > self.good and self.failures > 0:
            self.failures -= 1
            raise httpx.ConnectError("hub down")
        return self.client.post(url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.delete(url, **kwargs)


def test_a_hub_down_mid_sync_is_retried_and_nothing_is_lost(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "gateway.db")
    flaky = FlakyHub(steward, good=2, failures=2)  # fewer failures than attempts

    report = _sync(export, encoder, store, flaky)

    assert report.completed
    assert report.added == 120
    assert _live(hub) == 120


def test_a_hub_that_stays_down_stops_the_sync_and_the_next_one_resumes(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    store = LocalStore(tmp_path / "gateway.db")
    with pytest.raises(SyncAborted) as stopped:
        _sync(export, encoder, store, FlakyHub(steward, good=2, failures=100))
    partial = stopped.value.args[1]
    assert not partial.completed
    assert _live(hub) == 50  # two batches of 25 reached the hub

    report = _sync(export, encoder, store, steward)

    assert report.completed
    assert (report.added, report.unchanged) == (70, 50)  # only what had not been accepted
    assert _live(hub) == 120


def test_a_gateway_killed_mid_sync_resumes_without_loss_or_duplicates(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    class Killed(BaseException):
        pass

    class DiesAfterThreePosts(FlakyHub):
        def post(self, url: str, **kwargs: Any) -> httpx.Response:
            if self.posts == 3:
                raise Killed  # the process dies between two batches
            return super().post(url, **kwargs)

    state = tmp_path / "gateway.db"
    with pytest.raises(Killed):
        _sync(export, encoder, LocalStore(state), DiesAfterThreePosts(steward, 99, 0))

    report = _sync(export, encoder, LocalStore(state), steward)  # the restarted gateway

    assert report.completed
    assert report.unchanged == 75
    assert report.added == 45
    assert _live(hub) == 120
    with session_scope(hub.engine) as session:
        ids = session.exec(select(StoredRecord.record_id)).all()
    assert len(ids) == len(set(ids)) == 120


def test_an_export_folder_is_read_file_by_file(
    hub: Hub, steward: TestClient, export: Path, encoder: RecordEncoder, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    rows = _read(export)
    _write(folder / "a.csv", rows[:60])
    _write(folder / "b.csv", rows[60:])
    shutil.copy(export, tmp_path / "not-in-the-folder.csv")

    report = _sync(folder, encoder, LocalStore(tmp_path / "gateway.db"), steward)

    assert report.added == 120
    assert _live(hub) == 120
