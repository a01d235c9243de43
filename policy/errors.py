"""Errors raised by the policy package.

Every error the package raises on purpose derives from :class:`PolicyError`, so a
caller (the service, the CLI) can map all of them in one place::

    PolicyError
    ├── PolicyValidationError   a rule, a sharing opt-in or a request names something
    │                           outside the closed lists (``field`` says which)
    ├── PolicyFormatError       a policy file cannot be read (syntax, layout)
    ├── PolicyModelError        the Casbin model file is not the one the code expects
    ├── PolicyAuthorityError    an editor writes rules outside their own scope
    ├── PolicyEvaluationError   Casbin failed while deciding (the decision is a deny)
    └── ConsentError            a consent is inconsistent
        └── ConsentFormatError  a FHIR Consent document is invalid (``field`` says where)

Decisions never raise: :meth:`policy.enforcer.PolicyEngine.decide` turns every
error into a deny with reason ``policy_error``. Messages name fields, never the
values of identifiers or context; vocabulary values (a mistyped category) are
shown because they are policy, not personal data.
"""

from __future__ import annotations

__all__ = [
    "ConsentError",
    "ConsentFormatError",
    "PolicyAuthorityError",
    "PolicyError",
    "PolicyEvaluationError",
    "PolicyFormatError",
    "PolicyModelError",
    "PolicyValidationError",
]


class PolicyError(Exception):
    """Root of every error the policy package raises deliberately."""


class PolicyValidationError(PolicyError):
    """A value is not in its closed list; ``field`` names it (``category``, ``rules[3].role``)."""

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}: {problem} (got {value!r})")

    def under(self, prefix: str) -> PolicyValidationError:
        """The same error with its field under ``prefix`` (``role`` → ``rules[2].role``)."""
        return PolicyValidationError(f"{prefix}.{self.field}", self.value, self.problem)


class PolicyFormatError(PolicyError):
    """A policy file is not valid TOML or not laid out as a policy file."""


class PolicyModelError(PolicyError):
    """The Casbin model text differs from what the engine was written for."""


class PolicyAuthorityError(PolicyError):
    """A privacy officer edits a rule outside the scope their role and agency give them."""


class PolicyEvaluationError(PolicyError):
    """Casbin (or a condition) failed during a decision; callers see a ``policy_error`` deny."""


class ConsentError(PolicyError):
    """A consent record is inconsistent (period, versions, recipients)."""


class ConsentFormatError(ConsentError):
    """A FHIR Consent document is invalid; ``field`` is the path of the offending element."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")
