"""A responder's journey on the gateway's page, in a real browser, keyboard only.

Hub (SQLite) and the EMS gateway both run on localhost; the medic signs in with
their hub token, types a person known to police and behavioral health, opens
the candidate, and reads: police safety flags (allowed), behavioral health's
crisis plan withheld with its reason in words, substance use absent (concealed
without consent); then breaks the glass and reads the crisis plan and the
substance-use note with the 42 CFR Part 2 notice. Every page is checked with
axe-core (no serious or critical violation) and photographed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.gateway.app import create_gateway_app
from tests.browser.conftest import ARTIFACTS, AXE
from tests.gateway.program import Program, read_export, running_program
from tests.live import serve

pytestmark = pytest.mark.browser


@pytest.fixture
def program(tmp_path: Path, fixtures_dir: Path) -> Iterator[Program]:
    """The test program on SQLite, every agency synced."""
    with running_program(f"sqlite:///{tmp_path / 'hub.db'}", tmp_path, fixtures_dir) as running:
        yield running


@pytest.fixture
def ems_page(program: Program) -> Iterator[str]:
    """The EMS gateway served on localhost."""
    with serve(create_gateway_app(program.gateway_settings("ems"))) as url:
        yield url


def _person_at_police_and_bh(program: Program, fixtures_dir: Path) -> dict[str, str]:
    """A person police know who has a crisis plan and a substance-use note at BH."""
    with (fixtures_dir / "synthetic" / "small" / "truth.csv").open(newline="") as handle:
        truth = list(csv.DictReader(handle))
    bh = {r["record_id"]: r for r in read_export(program.exports["behavioral_health"])}
    police = {r["record_id"]: r for r in read_export(program.exports["police_cad"])}
    people: dict[str, list[tuple[str, str]]] = {}
    for row in truth:
        people.setdefault(row["person_id"], []).append((row["agency"], row["record_id"]))
    for records in people.values():
        at_bh = [bh[r] for a, r in records if a == "behavioral_health"]
        at_police = [police[r] for a, r in records if a == "police_cad"]
        full = [
            r for r in at_bh if r["crisis_plan"] and r["substance_use_note"] and r["birth_date"]
        ]
        if full and at_police:
            return full[0]
    raise AssertionError("the fixture has no such person")


def _axe(page: Any, step: str) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    bad = [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{step}: accessibility violations {bad}"
    page.screenshot(path=str(ARTIFACTS / f"responder-{step}.png"), full_page=True)


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until ``selector`` has the focus (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"{selector} cannot be reached with the keyboard")


def test_a_medic_finds_a_person_reads_what_policy_allows_and_breaks_the_glass(
    program: Program, ems_page: str, browser: Any, fixtures_dir: Path
) -> None:
    person = _person_at_police_and_bh(program, fixtures_dir)
    page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
    sizes: list[int] = []
    documents: list[str] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.status == 200 else None)
    page.on("request", lambda r: documents.append(r.url) if r.resource_type == "document" else None)
    page.goto(ems_page)
    _axe(page, "1-signin")
    _tab_to(page, "#token")
    page.keyboard.type(program.tokens["medic"])
    page.keyboard.press("Enter")
    page.wait_for_url("**/search")
    _axe(page, "2-search")

    for field in ("given_name", "family_name", "birth_date"):
        _tab_to(page, f"#{field}")
        page.keyboard.type(person[field])
    page.keyboard.press("Enter")
    page.wait_for_selector("#results")
    _axe(page, "3-results")
    assert "match" in page.inner_text("main").lower()

    _tab_to(page, "a[href^='/subjects/']")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Context')")
    after_signin = documents[
        documents.index(next(d for d in documents if d.endswith("/search"))) + 1 :
    ]
    assert len(after_signin) <= 3, after_signin  # search, then the person's context
    _axe(page, "4-context")
    text = page.inner_text("main")
    assert "Behavioral Health" in text
    assert "needs the person's consent" in text or "emergency access" in text
    assert "substance" not in text.lower().replace("substance-use history", "")
    assert person["crisis_plan"] not in text

    _tab_to(page, "#reason")
    page.keyboard.type("unresponsive, possible overdose")
    _tab_to(page, "button.danger")
    page.keyboard.press("Enter")
    page.wait_for_url("**purpose=emergency")
    _axe(page, "5-break-glass")
    text = page.inner_text("main")
    assert "break-glass access" in text
    assert person["crisis_plan"] in text
    assert person["substance_use_note"] in text
    assert "42 CFR Part 2 notice" in text
    assert max(sizes) <= 100 * 1024  # every page and the stylesheet


def test_every_page_is_small(program: Program, ems_page: str, browser: Any) -> None:
    page = browser.new_page()
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.ok else None)
    page.goto(ems_page)
    page.fill("#token", program.tokens["medic"])
    page.click("button[type=submit]")
    page.wait_for_url("**/search")
    assert sizes
    assert max(sizes) <= 100 * 1024
