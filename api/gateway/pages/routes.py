"""The responder page: sign in once, then find → confirm → read, in three requests.

Server-rendered (Jinja2, autoescaped), no script, no external asset. A responder
signs in with their hub token (checked at the hub, ``GET /v1/me``); the browser
then holds only a session cookie, and every form carries the session's CSRF
token. The search form posts the plaintext identifiers to this gateway, which
encodes them and resolves at the hub (:func:`api.gateway.app.resolve_with_aids`);
the results page lists candidates with their confirmation aids; a candidate's
page shows the hub's policy-filtered view — withheld categories with their
reason in words, concealed ones absent, the Part 2 redisclosure notice where
the hub attached it — and a break-glass form that asks for a reason. Nothing
shown was not allowed by the hub, except the agency's own records to its own users.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from api.gateway.hub_client import HubUnavailable
from api.gateway.query import QUERY_FIELDS, PersonQuery
from api.gateway.responder import AnswerError, resolve_with_aids
from api.web.sessions import COOKIE, Session, SessionStore
from policy.vocabulary import PURPOSES

__all__ = ["REASON_WORDS", "router"]

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


#: The hub's withheld-reason codes, in words a responder reads on scene.
REASON_WORDS = {
    "denied_by_rule": "not shared with your role",
    "no_sharing_agreement": "this agency does not share with yours",
    "consent_required": "needs the person's consent",
    "consent_revoked": "the person withdrew consent",
    "consent_expired": "the person's consent has expired",
    "break_glass_available": "available only through emergency access (break-glass)",
    "purpose_not_permitted": "not shared for this purpose",
    "default_deny": "not shared",
    "policy_error": "unavailable right now (policy error)",
}

_FIELDS = (
    ("given_name", "Given name", "text"), ("middle_name", "Middle name", "text"),
    ("family_name", "Family name", "text"), ("birth_date", "Birth date", "date"),
    ("sex", "Sex", "sex"), ("street_address", "Street address", "text"),
    ("city", "City", "text"), ("postcode", "ZIP code", "text"), ("phone", "Phone", "text"),
)  # fmt: skip

router = APIRouter(include_in_schema=False)


def _sessions(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def _session(request: Request) -> Session | None:
    return _sessions(request).get(request.cookies.get(COOKIE))


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    gateway = request.app.state.gateway
    base = {"agency": gateway.settings.agency.replace("_", " "), "session": _session(request)}
    return TEMPLATES.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _to_signin() -> RedirectResponse:
    return RedirectResponse("/", status_code=303)


def _refused(request: Request, title: str, message: str, status: int) -> HTMLResponse:
    return _page(request, "error.html", status, title=title, message=message)


def _checked(request: Request, csrf: str | None) -> Session | Response:
    session = _session(request)
    if session is None:
        return _to_signin()
    if not SessionStore.check_csrf(session, csrf):
        return _refused(request, "Form expired", "Reload the page and try again.", 403)
    return session


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    """The sign-in page, or the search page once signed in."""
    if _session(request) is not None:
        return RedirectResponse("/search", status_code=303)
    return _page(request, "signin.html")


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request, token: Annotated[str, Form(max_length=200)]) -> Response:
    """Check the token at the hub and start a session."""
    gateway = request.app.state.gateway
    try:
        answer = await gateway.hub.whoami(token.strip())
    except HubUnavailable:
        return _page(request, "signin.html", 503, error="The hub is unavailable; try again soon.")
    if not answer.ok:
        return _page(request, "signin.html", 401, error="That token was not accepted.")
    sid, _ = _sessions(request).create(token.strip(), dict(answer.body))
    response = RedirectResponse("/search", status_code=303)
    _sessions(request).set_cookie(response, sid)
    return response


@router.post("/signout")
async def signout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """End the session."""
    checked = _checked(request, csrf)
    if not isinstance(checked, Session):
        return checked
    _sessions(request).end(request.cookies.get(COOKIE))
    response = _to_signin()
    _sessions(request).clear_cookie(response)
    return response


def _search_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    defaults: dict[str, Any] = {
        "fields": _FIELDS, "purposes": PURPOSES, "query": {}, "field_errors": {},
        "purpose": PURPOSES[0], "results": None,
    }  # fmt: skip
    return _page(request, "search.html", status, **{**defaults, **context})


@router.get("/search", response_class=HTMLResponse)
async def search_form(request: Request) -> Response:
    """The search form."""
    if _session(request) is None:
        return _to_signin()
    return _search_page(request)


@router.post("/search", response_class=HTMLResponse)
async def search(request: Request) -> Response:
    """Resolve the typed person and list the candidates with confirmation aids."""
    form = await request.form()
    checked = _checked(request, str(form.get("csrf", "")))
    if not isinstance(checked, Session):
        return checked
    typed = {name: str(form.get(name, ""))[:200] for name in QUERY_FIELDS if name != "ssn"}
    purpose = str(form.get("purpose", PURPOSES[0]))
    purpose = purpose if purpose in PURPOSES else PURPOSES[0]
    try:
        query = PersonQuery(**typed)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): e["msg"] for e in exc.errors() if e["loc"]}
        message = None if errors else "Give at least a name or a birth date."
        return _search_page(request, 422, query=typed, field_errors=errors, error=message,
                            purpose=purpose)  # fmt: skip
    try:
        body = await resolve_with_aids(request.app.state.gateway, checked.token, query, purpose)
    except HubUnavailable:
        return _search_page(request, 503, query=typed, purpose=purpose,
                            error="The hub is unavailable; try again soon.")  # fmt: skip
    except AnswerError as exc:
        field = exc.body.get("field") if isinstance(exc.body, dict) else None
        if exc.status in (401, 403):
            return _refused(request, "Not allowed", "The hub refused this request.", exc.status)
        errors = {field: "could not be read; check the format"} if field else {}
        message = None if errors else "The search was refused."
        return _search_page(request, exc.status, query=typed, purpose=purpose,
                            field_errors=errors, error=message)  # fmt: skip
    results = [
        {**aids, "zone": c.get("zone", ""), "probability": float(c.get("match_probability", 0))}
        for c, aids in zip(body.get("candidates", []), body.get("confirmation", []), strict=False)
    ]
    return _search_page(request, query=typed, purpose=purpose, results=results)


@router.get("/subjects/{subject_id}", response_class=HTMLResponse)
async def subject(request: Request, subject_id: str, purpose: str = PURPOSES[0]) -> Response:
    """The subject's context as the hub allows it, with the break-glass form."""
    session = _session(request)
    if session is None:
        return _to_signin()
    return await _subject_page(request, session, subject_id[:64], purpose[:40])


async def _subject_page(
    request: Request, session: Session, subject_id: str, purpose: str, error: str | None = None
) -> Response:
    try:
        answer = await request.app.state.gateway.hub.subject(session.token, subject_id, purpose)
    except HubUnavailable:
        return _refused(request, "Hub unavailable", "The hub is unavailable; try again soon.", 503)
    if not answer.ok:
        detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
        message = str(detail) if isinstance(detail, str) else "The hub refused this request."
        return _refused(request, "Not shown", message, answer.status)
    return _page(request, "subject.html", subject_id=subject_id, purpose=purpose, view=answer.body,
                 reason_words=REASON_WORDS, error=error)  # fmt: skip


@router.post("/subjects/{subject_id}/break-glass", response_class=HTMLResponse)
async def break_glass(
    request: Request,
    subject_id: str,
    reason: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Ask the hub for emergency access; on a grant, show the emergency view."""
    checked = _checked(request, csrf)
    if not isinstance(checked, Session):
        return checked
    subject_id = subject_id[:64]
    body = {"purpose": "emergency", "reason": reason.strip()}
    try:
        answer = await request.app.state.gateway.hub.break_glass(checked.token, subject_id, body)
    except HubUnavailable:
        return _refused(request, "Hub unavailable", "The hub is unavailable; try again soon.", 503)
    if answer.ok:
        return RedirectResponse(f"/subjects/{quote(subject_id)}?purpose=emergency", status_code=303)
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    message = detail if isinstance(detail, str) else "Emergency access was refused."
    return await _subject_page(request, checked, subject_id, "crisis_response", error=message)
