"""What-if: every decision a draft policy would change, before it is published.

The sweep covers roles × requesting agencies × owning agencies × categories ×
purposes × consent states × break-glass × CJIS authorisation, asking both
engines (both Casbin) and listing each request whose outcome or reason differs.

It is exhaustive but does not evaluate what cannot change. A decision is a
function of the Casbin rows of its (owner, category, role) partition, of whether
the owner shares with the requesting agency, and of the request; so a partition
whose rows and opt-in are the same in both sets is skipped whole. And an
attribute no condition in the partition reads (``reads`` in
:mod:`policy.conditions`) cannot change its decisions, so the sweep evaluates
one value of it and copies the result to the others. Likewise requesting
agencies that stand in the same relation to the owner in both sets (same
opt-ins, both or neither the owner) are asked once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace

from policy.conditions import CONDITIONS
from policy.enforcer import Decision, PolicyEngine, Request
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, ROLES

__all__ = ["Change", "WhatIfReport", "what_if"]

_ATTRIBUTE_VALUES: dict[str, tuple[object, ...]] = {
    "consent": CONSENT_STATES,
    "break_glass": (False, True),
    "cjis_authorized": (False, True),
}


@dataclass(frozen=True, slots=True)
class Change:
    """One request whose decision the draft changes."""

    request: Request
    before: Decision
    after: Decision


@dataclass(frozen=True, slots=True)
class WhatIfReport:
    """The changes a draft makes, and how much of the request space was covered.

    Attributes:
        changes: every changed decision, in sweep order.
        combinations: the size of the request space swept.
        evaluated: requests actually put to both engines (the rest provably unchanged).
    """

    changes: tuple[Change, ...]
    combinations: int
    evaluated: int

    def summary(self) -> Counter[tuple[str, str, str, str]]:
        """Counts of changes by (owner, category, reason before, reason after)."""
        return Counter(
            (c.request.owner, c.request.category, c.before.reason, c.after.reason)
            for c in self.changes
        )


def what_if(
    published: PolicyEngine,
    draft: PolicyEngine,
    agencies: Iterable[str] | None = None,
    *,
    roles: Iterable[str] = ROLES,
    categories: Iterable[str] = CATEGORIES,
    purposes: Iterable[str] = PURPOSES,
) -> WhatIfReport:
    """Every decision that differs (allowed or reason) between ``published`` and ``draft``.

    Args:
        published: the policy in force.
        draft: the candidate policy.
        agencies: requesting and owning agencies to sweep (default: every agency
            either policy names).
        roles, categories, purposes: the other axes (default: the closed lists).
    """
    names = sorted(set(agencies) if agencies is not None else published.agencies | draft.agencies)
    role_list, category_list, purpose_list = list(roles), list(categories), list(purposes)
    per_partition = len(names) * len(purpose_list)
    per_request = len(CONSENT_STATES) * 2 * 2
    changes: list[Change] = []
    evaluated = 0
    for owner, category, role in itertools.product(names, category_list, role_list):
        before_rows = published.partition_rows(owner, category, role)
        after_rows = draft.partition_rows(owner, category, role)
        rows_changed = before_rows != after_rows
        read = {
            attribute
            for row in (*before_rows, *after_rows)
            for attribute in CONDITIONS[row[4]].reads
        }
        for agency, alike in _relations(published, draft, owner, names).items():
            if not rows_changed and published.shares(owner, agency) == draft.shares(owner, agency):
                continue
            for purpose in purpose_list:
                found: list[Change] = []
                evaluated += _sweep(
                    published, draft, (role, agency, owner, category, purpose), read, found
                )
                changes += [_as(change, other) for change in found for other in alike]
    combinations = len(role_list) * len(category_list) * len(names) * per_partition * per_request
    return WhatIfReport(tuple(changes), combinations, evaluated)


def _relations(
    published: PolicyEngine, draft: PolicyEngine, owner: str, names: list[str]
) -> dict[str, list[str]]:
    """Requesting agencies grouped by their relation to ``owner`` in both policies.

    The model reads the requesting agency only through ``shared()`` (checked when
    it is loaded) and conditions only through ``same_agency``, so agencies with
    the same opt-ins in both policies and the same ownership get the same
    decisions: one representative is asked, the others copied.
    """
    groups: dict[tuple[bool, bool, bool], list[str]] = {}
    for agency in names:
        key = (published.shares(owner, agency), draft.shares(owner, agency), agency == owner)
        groups.setdefault(key, []).append(agency)
    return {members[0]: members for members in groups.values()}


def _as(change: Change, agency: str) -> Change:
    """``change`` for another requesting agency of the same relation to the owner."""
    if change.request.agency == agency:
        return change
    request = replace(change.request, agency=agency)
    return Change(request, change.before, change.after)


def _sweep(
    published: PolicyEngine,
    draft: PolicyEngine,
    fields: tuple[str, str, str, str, str],
    read: set[str],
    changes: list[Change],
) -> int:
    """Compare one (role, agency, owner, category, purpose) over the attribute values read."""
    relevant = [_ATTRIBUTE_VALUES[a] if a in read else (None,) for a in _ATTRIBUTE_VALUES]
    evaluated = 0
    for values in itertools.product(*relevant):
        probe = _request(fields, values)
        before, after = published.decide(probe), draft.decide(probe)
        evaluated += 1
        if (before.allowed, before.reason) == (after.allowed, after.reason):
            continue
        spread = [
            _ATTRIBUTE_VALUES[a] if v is None else (v,)
            for a, v in zip(_ATTRIBUTE_VALUES, values, strict=True)
        ]
        for concrete in itertools.product(*spread):
            changes.append(Change(_request(fields, concrete), before, after))
    return evaluated


def _request(fields: tuple[str, str, str, str, str], values: tuple[object, ...]) -> Request:
    """A request with these attribute values; ``None`` (irrelevant) takes the least privilege."""
    consent, break_glass, cjis = values
    return Request.of(
        *fields,
        consent="none" if consent is None else str(consent),
        break_glass=bool(break_glass),
        cjis_authorized=bool(cjis),
    )
