"""Access policy and consent: Casbin rules behind one typed, fail-closed engine.

Imports only ``linkage`` below it, never a web or database framework: rules,
sharing opt-ins, consents and request attributes arrive as plain data. Only this
package imports ``casbin`` (the ``pycasbin`` distribution), and only in
:mod:`policy.casbin_backend`.

- :class:`PolicyEngine` decides a :class:`Request` → :class:`Decision`
  (allowed, reason code, deciding rule); any failure is a ``policy_error`` deny.
- :mod:`policy.rules`, :mod:`policy.validation`, :mod:`policy.policy_file`:
  the rule type, closed-list validation, the TOML export/import format, diffs.
- :func:`what_if` lists every decision a draft would change.
- :mod:`policy.consent`, :mod:`policy.consent_fhir`: FHIR-shaped consents, their
  state for a request, FHIR R4 Consent JSON.
- :mod:`policy.view`: a subject's filtered view, with concealed categories absent.
"""

from policy.conditions import CONDITIONS, Condition, ConditionContext
from policy.consent import Consent, Recipient, Requester, consent_state, revoke
from policy.consent_fhir import from_fhir, to_fhir
from policy.enforcer import REASONS, Decision, PolicyEngine, Request
from policy.errors import (
    ConsentError,
    ConsentFormatError,
    PolicyAuthorityError,
    PolicyError,
    PolicyEvaluationError,
    PolicyFormatError,
    PolicyModelError,
    PolicyValidationError,
)
from policy.policy_file import dump_policy, parse_policy
from policy.rules import PolicyDiff, PolicySet, Rule, diff_policies
from policy.validation import (
    check_rule_authority,
    check_sharing_authority,
    rule_from_fields,
    validate_policy_set,
    validate_rule,
)
from policy.view import (
    PART2_REDISCLOSURE_NOTICE,
    Concealment,
    SubjectView,
    build_view,
    decide_categories,
    subject_view,
)
from policy.vocabulary import CATEGORIES, CONSENT_STATES, PURPOSES, ROLES
from policy.whatif import Change, WhatIfReport, what_if

__all__ = [
    "CATEGORIES",
    "CONDITIONS",
    "CONSENT_STATES",
    "PART2_REDISCLOSURE_NOTICE",
    "PURPOSES",
    "REASONS",
    "ROLES",
    "Change",
    "Concealment",
    "Condition",
    "ConditionContext",
    "Consent",
    "ConsentError",
    "ConsentFormatError",
    "Decision",
    "PolicyAuthorityError",
    "PolicyDiff",
    "PolicyEngine",
    "PolicyError",
    "PolicyEvaluationError",
    "PolicyFormatError",
    "PolicyModelError",
    "PolicySet",
    "PolicyValidationError",
    "Recipient",
    "Request",
    "Requester",
    "Rule",
    "SubjectView",
    "WhatIfReport",
    "build_view",
    "check_rule_authority",
    "check_sharing_authority",
    "consent_state",
    "decide_categories",
    "diff_policies",
    "dump_policy",
    "from_fhir",
    "parse_policy",
    "revoke",
    "rule_from_fields",
    "subject_view",
    "to_fhir",
    "validate_policy_set",
    "validate_rule",
    "what_if",
]
