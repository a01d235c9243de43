"""A separate process that submits batches to its own app on a shared database.

Used by the concurrency test: each process has its own in-memory index, so the
test exercises the cross-process linking lock and catch-up, not just threads.
"""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from tests.api.hub import make_settings, open_hub


def submit_batches(
    database_url: str, token: str, batches: list[bytes], barrier: Barrier
) -> dict[tuple[str, str], str]:
    """Post every batch, then return this process's view of each record's subject."""
    for hub in open_hub(make_settings(database_url)):
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}
        barrier.wait(timeout=60)
        for body in batches:
            response = hub.client.post("/v1/records", content=body, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"batch refused: {response.status_code} {response.text[:300]}")
        hub.linking.sync()
        index = hub.linking.index
        return {key: index.subject_of(key) for key in index._row_of}
    raise AssertionError("unreachable")
