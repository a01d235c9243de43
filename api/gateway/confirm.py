"""What helps a responder confirm the right person among the hub's candidates.

A list of opaque subject ids and probabilities is not enough to act on. For each
of the first few candidates the gateway reads the hub's policy-filtered view
(for the purpose the responder stated; each view is an audited disclosure at
the hub, like any other) and takes from it only what confirms a person:

* the zone in words ("match", "possible match");
* the ``identity`` context that agencies let this user see (display name,
  aliases, birth year or age, as each agency shares them);
* for member records of the responder's *own* agency (the hub names their
  record ids — that is the agency's own data), the agency's own plaintext
  from the gateway's local store, which never left the agency.

Nothing here adds to what the hub allowed: identity context comes from the
hub's answer as it is, and own-agency plaintext is the agency's own.
"""

from __future__ import annotations

from typing import Any

from api.gateway.local_store import LocalStore

__all__ = ["ZONE_WORDS", "confirmation_of"]

#: How a zone reads to a person.
ZONE_WORDS: dict[str, str] = {
    "match": "match",
    "possible": "possible match",
    "non_match": "unlikely match",
}


def confirmation_of(
    candidate: dict[str, Any], view: dict[str, Any] | None, store: LocalStore
) -> dict[str, Any]:
    """The confirmation aids of one candidate (``view``: the hub's view, or ``None``)."""
    zone = str(candidate.get("zone", ""))
    aids: dict[str, Any] = {
        "subject_id": candidate.get("subject_id"),
        "zone_words": ZONE_WORDS.get(zone, zone.replace("_", " ")),
        "identity": [],
        "own_records": [],
    }
    if not view:
        return aids
    for agency in view.get("agencies", []):
        entries = agency.get("categories", {}).get("identity")
        if entries:
            aids["identity"].append({"agency": agency.get("agency"), "entries": entries})
    own = view.get("own_records") or []
    aids["own_records"] = [
        {"record_id": r.record_id, **r.identity} for r in store.many(str(rid) for rid in own)
    ]
    return aids
