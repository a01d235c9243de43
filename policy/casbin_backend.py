"""The one place that touches pycasbin: the checked model and per-partition enforcers.

pycasbin's plain ``Enforcer`` evaluates its matcher against every policy row on
every call (about 8 µs a row, 23 ms a decision with 2,000 rules). Its
``FastEnforcer`` indexes rows by exact key values, which cannot see wildcard
rows (a program-wide ``*`` guard rail would be skipped), mutates shared state
during a call (unsafe across threads) and, when the filter is empty, runs the
matcher against blank fields. So the rows are **partitioned** here instead: one
small Casbin enforcer per (owner, category, role), holding exactly the rows whose
scope, category and role match it, wildcards included. Casbin still makes every
decision — deny-overrides effect, matcher, explain row — over fewer rows.

Two more pycasbin habits are neutralised: each call re-parses the matcher
(``ast.parse`` plus a new ``SimpleEval``: ~60 µs), so the parsed expression is
kept per thread and per engine; and ``add_policies`` silently adds nothing when
one row already exists, so every partition's row count is checked after loading.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Sequence
from functools import cache
from importlib import resources
from typing import Any

import casbin
from casbin.core_enforcer import CoreEnforcer
from casbin.model import FunctionMap

from policy.conditions import ConditionContext, condition_holds
from policy.errors import PolicyEvaluationError, PolicyModelError
from policy.rules import Rule, SharingPair
from policy.vocabulary import CATEGORIES, ROLES, WILDCARD

__all__ = ["MODEL_RESOURCE", "CasbinPartitions", "Row", "check_model_text", "load_model_text"]

#: The Casbin model file shipped inside the package.
MODEL_RESOURCE = "model.conf"

Row = tuple[str, ...]
_REQUEST_TOKENS = ["r_role", "r_agency", "r_owner", "r_category", "r_purpose", "r_attrs"]
_POLICY_TOKENS = ["p_scope", "p_role", "p_category", "p_purpose", "p_condition", "p_eft"]
_EFFECT = "some(where (p_eft == allow)) && !some(where (p_eft == deny))"
_REQUIRED_MATCHER_CALLS = ("shared(r_owner, r_agency)", "condition(p_condition, r_attrs)")
_MAX_POLICY_FIELDS = 6  # the SQLAlchemy adapter's v0..v5


@cache
def load_model_text() -> str:
    """The text of ``policy/model.conf``, checked by :func:`check_model_text`."""
    text = resources.files("policy").joinpath(MODEL_RESOURCE).read_text(encoding="utf-8")
    check_model_text(text)
    return text


def check_model_text(text: str) -> Any:
    """Parse a model text with Casbin and refuse anything but the model this code expects.

    Refused: an inline ``#`` (Casbin would keep it in the value), request or
    policy tokens other than ours (more than six policy fields included), an
    effect other than deny-overrides-allow, any ``[role_definition]`` (``g()``
    is transitive, so sharing must not use it), a matcher without the sharing
    and condition calls or one that reads the requester's agency other than
    through ``shared()`` (so a decision depends on the requesting agency only
    through the opt-in and whether it is the owner — what-if relies on this).

    Returns:
        The parsed ``casbin.Model``.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if "#" in stripped and not stripped.startswith("#"):
            raise PolicyModelError(f"model line {number}: inline '#' comment (Casbin keeps it)")
    try:
        model = casbin.Enforcer.new_model(text=text)
    except Exception as exc:  # pycasbin raises bare RuntimeError and parser errors
        raise PolicyModelError(f"model does not parse: {type(exc).__name__}") from exc
    sections = model.model
    if "g" in sections:
        raise PolicyModelError("model defines roles (g): sharing must not be transitive")
    p_tokens = sections["p"]["p"].tokens
    if len(p_tokens) > _MAX_POLICY_FIELDS or p_tokens != _POLICY_TOKENS:
        raise PolicyModelError(f"policy fields must be {_POLICY_TOKENS}")
    if sections["r"]["r"].tokens != _REQUEST_TOKENS:
        raise PolicyModelError(f"request fields must be {_REQUEST_TOKENS}")
    if sections["e"]["e"].value != _EFFECT:
        raise PolicyModelError("policy effect must be deny-overrides-allow")
    matcher = sections["m"]["m"].value
    if not all(call in matcher for call in _REQUIRED_MATCHER_CALLS):
        raise PolicyModelError(f"matcher must call {' and '.join(_REQUIRED_MATCHER_CALLS)}")
    if matcher.count("r_agency") != 1:  # what-if groups agencies by their relation to the owner
        raise PolicyModelError("the matcher may read r.agency only through shared()")
    return model


class _ParsedMatchers(threading.local):
    """Per-thread parsed matcher: a ``SimpleEval`` keeps per-call state, so not shared."""

    def __init__(self) -> None:
        self.key: tuple[str, int] | None = None
        self.expression: Any = None


class _PartitionEnforcer(casbin.Enforcer):  # type: ignore[misc]  # casbin is untyped
    """A stock Casbin enforcer that keeps its parsed matcher instead of re-parsing per call."""

    def __init__(self, model: Any, functions: Any, parsed: _ParsedMatchers) -> None:
        super().__init__(model)
        self.fm = functions  # one function map for every partition of an engine
        self._parsed = parsed

    def _get_expression(self, expr: str, functions: Any = None) -> Any:
        key = (expr, id(functions))
        parsed = self._parsed
        if parsed.key != key:
            parsed.expression = CoreEnforcer._get_expression(expr, functions)
            parsed.key = key
        return parsed.expression


class CasbinPartitions:
    """Casbin enforcers for one rule set, one per (owner, category, role), built on first use.

    Args:
        rules: validated rules.
        sharing: validated ``(owner, recipient)`` opt-ins.
        model_text: the model (default: the packaged ``model.conf``).
    """

    def __init__(
        self,
        rules: Sequence[Rule],
        sharing: Iterable[SharingPair],
        model_text: str | None = None,
    ) -> None:
        self._model = check_model_text(model_text or load_model_text())
        self._pairs = frozenset(sharing)
        self._index = _index_rows(rules)
        self.owners = frozenset(scope for scope, _, _ in self._index if scope != WILDCARD)
        self._functions = FunctionMap.load_function_map()
        self._functions.add_function("shared", self.shares)
        self._functions.add_function("condition", condition_holds)
        self._parsed = _ParsedMatchers()
        self._enforcers: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()

    def shares(self, owner: str, agency: str) -> bool:
        """Whether ``owner``'s data may reach ``agency`` at all: same agency or an opt-in pair."""
        return owner == agency or (owner, agency) in self._pairs

    def rows(self, owner: str, category: str, role: str) -> tuple[Row, ...]:
        """The rows that can apply to a request: this owner's and the program-wide ones."""
        own = self._index.get((owner, category, role), ()) if owner != WILDCARD else ()
        return tuple(sorted((*own, *self._index.get((WILDCARD, category, role), ()))))

    def evaluate(self, request: Sequence[str], ctx: ConditionContext) -> tuple[bool, Row | None]:
        """Casbin's decision and deciding row for ``(role, agency, owner, category, purpose)``.

        Raises:
            PolicyEvaluationError: the enforcer is disabled, Casbin failed, or its
                answer is not attributable to a row of the right effect.
        """
        role, agency, owner, category, purpose = request
        enforcer = self._enforcer(owner, category, role)
        if enforcer.enabled is not True:  # pycasbin allows everything when disabled
            raise PolicyEvaluationError("the Casbin enforcer is disabled")
        try:
            allowed, explain = enforcer.enforce_ex(role, agency, owner, category, purpose, ctx)
        except PolicyEvaluationError:
            raise
        except Exception as exc:
            raise PolicyEvaluationError(f"Casbin failed: {type(exc).__name__}") from exc
        row = tuple(explain) if explain else None
        if allowed is True and row is not None and row[-1] == "allow":
            return True, row
        if allowed is False and (row is None or row[-1] == "deny"):
            return False, row
        raise PolicyEvaluationError("Casbin's answer has no deciding rule of its effect")

    def build(self, roles: Iterable[str]) -> int:
        """Build every partition of ``roles`` now (each ~0.3 ms); returns how many exist."""
        for owner in (*self.owners, WILDCARD):
            for category in CATEGORIES:
                for role in roles:
                    self._enforcer(owner, category, role)
        return len(self._enforcers)

    def _enforcer(self, owner: str, category: str, role: str) -> Any:
        key = (owner if owner in self.owners else WILDCARD, category, role)
        enforcer = self._enforcers.get(key)
        if enforcer is None:
            with self._lock:
                enforcer = self._enforcers.get(key)
                if enforcer is None:
                    enforcer = self._build(self.rows(*key))
                    self._enforcers[key] = enforcer
        return enforcer

    def _build(self, rows: tuple[Row, ...]) -> Any:
        enforcer = _PartitionEnforcer(copy.deepcopy(self._model), self._functions, self._parsed)
        if rows and not enforcer.add_policies([list(row) for row in rows]):
            raise PolicyEvaluationError("Casbin refused a partition's rows")
        if len(enforcer.get_policy()) != len(rows):  # add_policies is all-or-nothing, silently
            raise PolicyEvaluationError("Casbin lost rows of a partition")
        return enforcer


def _index_rows(rules: Sequence[Rule]) -> dict[tuple[str, str, str], tuple[Row, ...]]:
    """Rows by (scope, category, role), wildcard categories and roles expanded."""
    index: dict[tuple[str, str, str], list[Row]] = {}
    for rule in rules:
        for category in _expand(rule.category, CATEGORIES):
            for role in _expand(rule.role, ROLES):
                index.setdefault((rule.scope, category, role), []).append(rule.to_fields())
    return {key: tuple(dict.fromkeys(rows)) for key, rows in index.items()}


def _expand(value: str, vocabulary: tuple[str, ...]) -> tuple[str, ...]:
    return vocabulary if value == WILDCARD else (value,)
