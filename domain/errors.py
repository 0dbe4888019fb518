"""Typed refusals raised by the rules; the API maps each to one problem response.

A refusal says why with a message key and its parameters (domain/messages.py), so the
API can answer in the reader's language; `detail` is its English text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domain.messages import ENGLISH, Message, Term, title
from domain.states import OrderState


class DomainError(Exception):
    """Base of every refusal the rules can make.

    Raise with `key=` and the key's parameters; a plain English `detail` still works,
    and then Chinese readers get the general text of the refusal's code.
    """

    code = "domain-error"

    def __init__(self, detail: str | None = None, *, key: str | None = None, **params: object) -> None:
        if detail is None:
            self.message = Message(key or self.code, **params)
        else:
            self.message = Message(self.code, detail, **params)
        super().__init__(self.detail)

    @property
    def detail(self) -> str:
        return self.message.text(ENGLISH)

    @property
    def title(self) -> str:
        # The English title, by code; a class may still set its own for a code the catalogue lacks.
        return title(self.code, ENGLISH) or title(DomainError.code, ENGLISH)

    def extensions(self) -> dict:
        return {}


def state_term(state: OrderState | None) -> Term:
    return Term(state.value, state.label) if state else Term("not placed", "未点单")


class InvalidTransition(DomainError):
    """The action is not allowed from the order's current state."""

    code = "invalid-transition"

    def __init__(
        self, action: str, current_state: OrderState | None, allowed_actions: Iterable[str],
        *, action_labels: Mapping[str, str],
    ) -> None:
        self.action = action
        self.state = current_state
        self.current_state = current_state.value if current_state else None
        self.allowed_actions = sorted(allowed_actions)
        allowed = [Term(a, action_labels[a]) for a in self.allowed_actions] or Term("none", "无")
        super().__init__(
            action=Term(action, action_labels[action]), state=state_term(current_state), allowed=allowed,
        )

    def extensions(self) -> dict:
        return {
            "action": self.action,
            "current_state": self.current_state,
            "current_state_label": self.state.label if self.state else None,
            "allowed_actions": self.allowed_actions,
        }


class NotPermitted(DomainError):
    """The actor's role may not take this action at all."""

    code = "not-permitted"


class RuleViolation(DomainError):
    """The input is well formed but breaks a rule (a member of another branch, …)."""

    code = "rule-violation"


class NotFound(DomainError):
    """Absent, or outside the caller's scope: the two look the same from outside."""

    code = "not-found"


class StaleOrder(DomainError):
    """The order moved while the request ran, to the same state by another path."""

    code = "order-changed"

    def __init__(self, detail: str, current_state: OrderState, allowed_actions: Iterable[str]) -> None:
        super().__init__(detail, state=state_term(current_state))
        self.state = current_state
        self.allowed_actions = sorted(allowed_actions)

    def extensions(self) -> dict:
        return {"current_state": self.state.value, "current_state_label": self.state.label,
                "allowed_actions": self.allowed_actions}


class Conflict(DomainError):
    """The request clashes with what is stored (a duplicate name, an object still in use)."""

    code = "conflict"
