"""Open311 GeoReport v2 answers as the specification writes them: JSON, or XML with its element names."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import JSONResponse, Response

XML_TYPE = "text/xml; charset=utf-8"
FORMATS = ("json", "xml")


def _fill(parent: Element, value: Any, item_name: str) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _fill(SubElement(parent, key), inner, _singular(key))
    elif isinstance(value, list):
        for inner in value:
            _fill(SubElement(parent, item_name), inner, item_name)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


def _singular(name: str) -> str:
    """The element of each item of a list: <attributes><attribute>, <values><value>, <endpoints><endpoint>."""
    return {"formats": "format"}.get(name, name[:-1] if name.endswith("s") else name)


def xml(root: str, item: str | None, value: Any) -> bytes:
    """`value` under <root>: a list's items each an <item>, a dict's keys their own elements."""
    element = Element(root)
    _fill(element, value, item or root)
    return b'<?xml version="1.0" encoding="utf-8"?>' + tostring(element, encoding="utf-8")


def answer(fmt: str, root: str, item: str | None, value: Any, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml(root, item, value), status_code=status, media_type=XML_TYPE)
    return JSONResponse(value, status_code=status)


def errors(fmt: str, status: int, description: str) -> Response:
    """The specification's error list: one `{code, description}`, with the HTTP status as its code."""
    return answer(fmt if fmt in FORMATS else "json", "errors", "error",
                  [{"code": status, "description": description}], status=status)
