"""A category's extra questions (Open311 GeoReport v2 service attributes) and the answers an order gives.

The resident's form, `POST /orders` and Open311's `attribute[code]` all answer the same
definitions. Datatypes are the specification's: string, number, datetime, text,
singlevaluelist, multivaluelist. Answers are kept as text (a list for multivaluelist),
checked here against their definition.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from domain.errors import RuleViolation

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LISTS = ("singlevaluelist", "multivaluelist")
MAX_ATTRIBUTES = 20
CODE = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


class AttributeAnswerInvalid(RuleViolation):
    """An order's answer to its category's questions that cannot be taken."""


def check_definitions(definitions: list[dict]) -> list[dict]:
    """The definitions as stored, in their order; a RuleViolation names the first that is wrong."""
    if len(definitions) > MAX_ATTRIBUTES:
        raise RuleViolation(key="attribute.too-many", limit=MAX_ATTRIBUTES)
    seen: set[str] = set()
    for d in definitions:
        if d["code"] in seen:
            raise RuleViolation(key="attribute.code-twice", code=d["code"])
        seen.add(d["code"])
        if (d["datatype"] in LISTS) != bool(d.get("values")):
            raise RuleViolation(key="attribute.values-for-lists", code=d["code"])
    return sorted(definitions, key=lambda d: (d.get("order", 0), d["code"]))


def check_answers(definitions: list[dict], answers: Mapping[str, str | list[str]]) -> dict[str, str | list[str]]:
    """The answers to keep, each checked against its question; unknown codes and missing required ones refused."""
    by_code = {d["code"]: d for d in definitions if d.get("variable", True)}
    unknown = sorted(set(answers) - set(by_code))
    if unknown:
        raise AttributeAnswerInvalid(key="attribute.unknown", codes=", ".join(unknown))
    kept: dict[str, str | list[str]] = {}
    for code, d in by_code.items():
        given = answers.get(code)
        if given in (None, "", []):
            if d.get("required"):
                raise AttributeAnswerInvalid(key="attribute.required", code=_named(d))
            continue
        kept[code] = _checked(d, given)
    return kept


def _named(d: dict) -> str:
    """A question as a refusal names it: its words, and its code for the client that sent it."""
    return f"「{d['description']}」({d['code']})" if d.get("description") else d["code"]


def _checked(d: dict, given: str | list[str]) -> str | list[str]:
    code, datatype = _named(d), d["datatype"]
    keys = {v["key"] for v in d.get("values") or []}
    if datatype == "multivaluelist":
        chosen = [given] if isinstance(given, str) else list(given)
        if not set(chosen) <= keys:
            raise AttributeAnswerInvalid(key="attribute.not-a-value", code=code)
        return sorted(set(chosen), key=chosen.index)
    if not isinstance(given, str):
        raise AttributeAnswerInvalid(key="attribute.one-value", code=code)
    if datatype == "singlevaluelist" and given not in keys:
        raise AttributeAnswerInvalid(key="attribute.not-a-value", code=code)
    if datatype == "number":
        try:
            float(given)
        except ValueError:
            raise AttributeAnswerInvalid(key="attribute.not-a-number", code=code) from None
    if datatype == "datetime":
        try:
            datetime.fromisoformat(given.replace("Z", "+00:00"))
        except ValueError:
            raise AttributeAnswerInvalid(key="attribute.not-a-datetime", code=code) from None
    if len(given) > (2000 if datatype == "text" else 200):
        raise AttributeAnswerInvalid(key="attribute.too-long", code=code)
    return given
