"""Typed refusals raised by the rules; the API maps each to one problem response."""

from __future__ import annotations

from collections.abc import Iterable

from domain.states import OrderState


class DomainError(Exception):
    """Base of every refusal the rules can make."""

    code = "domain-error"
    title = "Request refused"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def extensions(self) -> dict:
        return {}


class InvalidTransition(DomainError):
    """The action is not allowed from the order's current state."""

    code = "invalid-transition"
    title = "Action not allowed in the current state"

    def __init__(self, action: str, current_state: OrderState | None, allowed_actions: Iterable[str]) -> None:
        self.action = action
        self.state = current_state
        self.current_state = current_state.value if current_state else None
        self.allowed_actions = sorted(allowed_actions)
        super().__init__(
            f"cannot {action} an order that is {self.current_state or 'not placed'}; "
            f"allowed: {', '.join(self.allowed_actions) or 'none'}"
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
    title = "Not permitted"


class RuleViolation(DomainError):
    """The input is well formed but breaks a rule (a member of another branch, …)."""

    code = "rule-violation"
    title = "Rule violated"


class NotFound(DomainError):
    """Absent, or outside the caller's scope: the two look the same from outside."""

    code = "not-found"
    title = "Not found"


class StaleOrder(DomainError):
    """The order moved while the request ran, to the same state by another path."""

    code = "order-changed"
    title = "Order changed while the request ran"

    def __init__(self, detail: str, current_state: OrderState, allowed_actions: Iterable[str]) -> None:
        super().__init__(detail)
        self.state = current_state
        self.allowed_actions = sorted(allowed_actions)

    def extensions(self) -> dict:
        return {"current_state": self.state.value, "current_state_label": self.state.label,
                "allowed_actions": self.allowed_actions}


class Conflict(DomainError):
    """The request clashes with what is stored (a duplicate name, an object still in use)."""

    code = "conflict"
    title = "Conflict"
