"""``crosswalk submit`` against a real uvicorn server on localhost (SQLite store)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.cli import main
from api.db import make_engine, session_scope
from api.hub.app import create_app
from api.hub.identity import service as identity
from api.hub.migrations import upgrade_database
from linkage.encode.keys import LinkageSecret
from tests.api.hub import encode_rows, make_settings, ndjson, read_rows
from tests.live import free_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A hub served over HTTP; yields (base URL, steward token file)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'hub.db'}")
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    with session_scope(engine) as session:
        identity.create_agency(session, "police_cad", settings.master_key_bytes())
        identity.create_user(session, "pat", "data_steward", "police_cad")
        token = identity.issue_token(session, "pat", 1)
    engine.dispose()
    token_file = tmp_path / "pat.token"
    token_file.write_text(token + "\n")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", str(token_file)
    finally:
        server.should_exit = True
        thread.join(10)


def test_submit_sends_the_file_in_batches(
    served: tuple[str, str],
    tmp_path: Path,
    fixtures_dir: Path,
    secret: LinkageSecret,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:57]
    encoded = tmp_path / "police.jsonl"
    encoded.write_bytes(ndjson(encode_rows(secret, "police_cad", rows)))
    hub, token_file = served
    status = main(["submit", str(encoded), "--hub", hub, "--token-file", token_file,
                   "--batch-size", "10"])  # fmt: skip
    assert status == 0
    assert "57 records accepted" in capsys.readouterr().err
    # Idempotent: sending the same file again stores nothing new.
    assert main(["submit", str(encoded), "--hub", hub, "--token-file", token_file]) == 0


def test_a_refused_batch_stops_the_run_and_names_lines_not_values(
    served: tuple[str, str],
    tmp_path: Path,
    fixtures_dir: Path,
    secret: LinkageSecret,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = read_rows(fixtures_dir / "synthetic" / "small" / "police_cad.csv")[:5]
    records = encode_rows(secret, "police_cad", rows)
    records[3].tokens["family_name.exact"] = "Whitaker"
    encoded = tmp_path / "police.jsonl"
    encoded.write_bytes(ndjson(records))
    hub, token_file = served
    status = main(["submit", str(encoded), "--hub", hub, "--token-file", token_file])
    err = capsys.readouterr().err
    assert status == 2
    assert "line ~4" in err
    assert "looks_like_plaintext" in err
    assert "Whitaker" not in err


def test_submit_reports_an_unreachable_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    encoded = tmp_path / "x.jsonl"
    encoded.write_text("{}\n")
    token_file = tmp_path / "t"
    token_file.write_text("cw_x")
    hub = f"http://127.0.0.1:{free_port()}"
    assert main(["submit", str(encoded), "--hub", hub, "--token-file", str(token_file)]) == 2
    assert "cannot reach" in capsys.readouterr().err
