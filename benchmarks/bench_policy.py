"""Policy decisions with 2,000 rules: our partitioned engine beside pycasbin's plain Enforcer.

Usage (from the repository root)::

    python -m benchmarks.bench_policy [--rules 2000] [--agencies 10] [--requests 2000]

A random but realistic rule set is generated (per-agency rules over responder
roles, categories, purposes and the vetted conditions, plus program-wide guard
rails; about half the agency pairs opted in). Then, in one run:

* **baseline** — pycasbin's plain ``Enforcer`` with the same model file, all
  rows loaded and the same ``shared``/``condition`` functions: median
  ``enforce`` time (it evaluates the matcher on every row);
* **casbin, partitioned** — the same Casbin evaluation on the (owner, category,
  role) partition the engine uses, no memo;
* **decide, cold** — ``PolicyEngine.decide`` on requests it has not seen (memo
  misses; denials include the reason look-ups); the target is ≤ 0.2 ms median;
* **decide, memoised** — the same requests again;
* **subject view** — 10 agencies × 11 categories decided per view, p99;
* **what-if** — a typical agency edit and a program-wide guard-rail edit.

Every sampled request's allow/deny is checked to be the same in the baseline
and in the engine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import casbin

from policy.casbin_backend import load_model_text
from policy.conditions import ConditionContext, condition_holds
from policy.consent import Requester
from policy.enforcer import PolicyEngine, Request
from policy.errors import PolicyValidationError
from policy.rules import Rule
from policy.validation import validate_rule
from policy.view import decide_categories
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, RESPONDER_ROLES, ROLES
from policy.whatif import what_if

DEMO = ["police_cad", "behavioral_health", "homeless_services", "ems", "program"]
CONDITIONS = ["always", "consent_granted", "consent_granted_or_not_required", "cjis_authorized"]


def generate_rules(count: int, agencies: Sequence[str], rng: random.Random) -> list[Rule]:
    """``count`` distinct valid rules: ~1% program-wide guard rails, the rest per agency."""
    responders = sorted(RESPONDER_ROLES)
    rules: dict[Rule, None] = {}
    while len(rules) < count:
        program_wide = rng.random() < 0.01
        condition = rng.choice([*CONDITIONS, "same_agency", "break_glass"])
        purpose = "emergency" if condition == "break_glass" else rng.choice([*PURPOSES, "*"])
        rule = Rule(
            scope="*" if program_wide else rng.choice(agencies),
            role=rng.choice([*responders, *responders, "*"]) if not program_wide else "*",
            category=rng.choice(CATEGORIES),
            purpose=purpose,
            condition="always" if program_wide else condition,
            effect="deny" if program_wide or rng.random() < 0.1 else "allow",
        )
        try:  # e.g. a substance-use allow that needs no consent: draw again
            rules[validate_rule(rule)] = None
        except PolicyValidationError:
            continue
    return list(rules)


def random_request(agencies: Sequence[str], rng: random.Random) -> Request:
    return Request.of(
        rng.choice(sorted(RESPONDER_ROLES)),
        rng.choice(agencies),
        rng.choice(agencies),
        rng.choice(CATEGORIES),
        rng.choice(PURPOSES),
        consent=rng.choice(CONSENT_STATES),
        break_glass=rng.random() < 0.1,
        cjis_authorized=rng.random() < 0.3,
    )


def plain_enforcer(rules: Sequence[Rule], sharing: set[tuple[str, str]]) -> casbin.Enforcer:
    enforcer = casbin.Enforcer(casbin.Enforcer.new_model(text=load_model_text()))
    enforcer.add_function(
        "shared", lambda owner, agency: owner == agency or (owner, agency) in sharing
    )
    enforcer.add_function("condition", condition_holds)
    enforcer.add_policies([list(rule.to_fields()) for rule in rules])
    return enforcer


def _context(request: Request) -> ConditionContext:
    a = request.attributes
    return ConditionContext(
        str(a["consent"]),
        bool(a["break_glass"]),
        bool(a["cjis_authorized"]),
        request.agency == request.owner,
        request.purpose,
        request.category,
    )


def _casbin_args(request: Request) -> tuple[object, ...]:
    fields = (request.role, request.agency, request.owner, request.category, request.purpose)
    return (*fields, _context(request))


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def quantiles_us(samples: Sequence[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered) * 1e6
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e6
    return f"median {p50:8.1f} µs   p99 {p99:8.1f} µs   (n={len(ordered)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, default=2000)
    parser.add_argument("--agencies", type=int, default=10)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--baseline-requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    agencies = (DEMO + [f"agency_{i}" for i in range(args.agencies)])[: args.agencies]
    rules = generate_rules(args.rules, agencies, rng)
    sharing = {(a, b) for a in agencies for b in agencies if a != b and rng.random() < 0.5}
    print(f"{len(rules)} rules, {len(agencies)} agencies, {len(sharing)} opt-ins")

    started = time.perf_counter()
    engine = PolicyEngine.from_rules(rules, sharing, "bench")
    print(f"engine built in {(time.perf_counter() - started) * 1e3:.1f} ms")
    baseline = plain_enforcer(rules, sharing)

    requests = [random_request(agencies, rng) for _ in range(args.requests)]
    base_times, agree = [], 0
    for request in requests[: args.baseline_requests]:
        base_times.append(timed(lambda r=request: baseline.enforce(*_casbin_args(r))))
        agree += baseline.enforce(*_casbin_args(request)) == engine.decide(request).allowed
    print(f"baseline plain Enforcer       {quantiles_us(base_times)}")
    assert agree == len(base_times), "partitioned engine disagrees with plain Casbin"
    print(f"  allow/deny identical to the engine on {agree}/{len(base_times)} requests")

    engine = PolicyEngine.from_rules(rules, sharing, "bench")  # fresh memo
    partitions = engine._partitions
    assert partitions is not None
    for request in requests:  # build the partitions first: measure evaluation, not loading
        partitions._enforcer(request.owner, request.category, request.role)
    raw = [
        timed(lambda r=r: partitions.evaluate(_casbin_args(r)[:5], _context(r))) for r in requests
    ]
    print(f"casbin, partitioned (no memo) {quantiles_us(raw)}")
    cold = [timed(lambda r=r: engine.decide(r)) for r in requests]
    print(f"decide, cold (reasons incl.)  {quantiles_us(cold)}   target median <= 200 µs")
    warm = [timed(lambda r=r: engine.decide(r)) for r in requests]
    print(f"decide, memoised              {quantiles_us(warm)}")

    view_engine = PolicyEngine.from_rules(rules, sharing, "bench-view")
    warm_seconds = timed(view_engine.warm)
    print(f"warm(): responder partitions built in {warm_seconds * 1e3:.0f} ms")
    held = {agency: list(CATEGORIES) for agency in agencies}
    now = datetime.now(UTC)
    askers = [
        (Requester(rng.choice(agencies), rng.choice(sorted(RESPONDER_ROLES))), rng.choice(PURPOSES))
        for _ in range(100)
    ]
    for label in ("subject view, first time    ", "subject view, again         "):
        times = [
            timed(lambda q=q, p=p: decide_categories(view_engine, q, p, held, [], now))
            for q, p in askers
        ]
        print(f"{label}  {quantiles_us(times)}   ({len(agencies)}×{len(CATEGORIES)} decisions)")

    edits = {
        "what-if, one agency rule added   ": [
            *rules,
            Rule(
                agencies[1],
                "police_officer",
                "medical",
                "crisis_response",
                "consent_granted",
                "allow",
            ),
        ],
        "what-if, program guard rail added": [
            *rules,
            Rule("*", "*", "housing", "public_safety", "always", "deny"),
        ],
    }
    for label, draft_rules in edits.items():
        published = PolicyEngine.from_rules(rules, sharing, "v1")
        draft = PolicyEngine.from_rules(draft_rules, sharing, "v2")
        started = time.perf_counter()
        report = what_if(published, draft, roles=ROLES)
        print(
            f"{label}  {time.perf_counter() - started:6.2f} s   {len(report.changes)} changes, "
            f"{report.evaluated}/{report.combinations} requests evaluated"
        )


if __name__ == "__main__":
    main()
