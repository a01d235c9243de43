"""Running syncs: once from the command line, or on a schedule inside the gateway.

:func:`run_sync` opens the hub with the data steward's token and the gateway's
store, and syncs one export. :class:`SyncSchedule` runs it every few minutes on
the shelf's :class:`~api.web.poller.Poller` while the gateway serves; each run
writes its report to ``state_dir/last-sync.json`` (ids and reasons only), and a
run that could not complete is simply resumed by the next one.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import httpx
import orjson

from api.gateway.local_store import LocalStore
from api.gateway.settings import GatewaySettings
from api.gateway.sync import SyncAborted, SyncReport, sync_export
from api.web.poller import Poller
from linkage.encode.encoding import RecordEncoder

__all__ = ["SyncSchedule", "run_sync"]

log = logging.getLogger(__name__)


def run_sync(
    settings: GatewaySettings,
    path: Path,
    token: str,
    *,
    batch_size: int = 1000,
    progress: bool = False,
    store: LocalStore | None = None,
) -> SyncReport:
    """One sync of ``path`` (see :func:`api.gateway.sync.sync_export`)."""
    own = store or LocalStore(settings.database)
    encoder = RecordEncoder(settings.schema, settings.secret, settings.agency)
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=settings.hub_url, headers=headers, timeout=120) as hub:
            report = sync_export(path, encoder=encoder, store=own, hub=hub,
                                 context=settings.context, batch_size=batch_size,
                                 progress=progress)  # fmt: skip
    finally:
        if store is None:
            own.close()
    _write_report(settings, report)
    return report


def _write_report(settings: GatewaySettings, report: SyncReport) -> None:
    target = settings.state_dir / "last-sync.json"
    target.write_bytes(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2))
    target.chmod(0o600)


class SyncSchedule:
    """Syncs the export folder every ``settings.sync_every_minutes`` (one at a time)."""

    def __init__(self, settings: GatewaySettings, store: LocalStore) -> None:
        if not (settings.sync_every_minutes and settings.export_dir and settings.token_file):
            raise ValueError("a sync schedule needs an interval, an export folder and a token")
        self.settings = settings
        self.store = store
        self._busy = threading.Lock()
        self._poller = Poller("gateway-sync", settings.sync_every_minutes * 60, self.run_once)

    def start(self) -> None:
        """Sync now (in the background) and then on the schedule."""
        threading.Thread(target=self.run_once, name="gateway-sync-first", daemon=True).start()
        self._poller.start()

    def stop(self) -> None:
        """Stop the schedule (a sync in progress finishes on its own)."""
        self._poller.stop()

    def run_once(self) -> None:
        """One scheduled sync (skipped if one is already running)."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            token_file, export = self.settings.token_file, self.settings.export_dir
            if token_file is None or export is None:  # checked in __init__
                return
            token = token_file.read_text(encoding="utf-8").strip()
            report = run_sync(self.settings, export, token, store=self.store)
            log.info("scheduled sync: %s", report.lines()[0])
        except SyncAborted as exc:
            log.warning("scheduled sync incomplete: %s", exc.args[0])
        finally:
            self._busy.release()
