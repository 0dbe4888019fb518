"""The reader's language, from the request's Accept-Language (RFC 9110, section 12.5.4)."""

from __future__ import annotations

from domain.messages import CHINESE, ENGLISH

# What a problem answer's Content-Language says for each language the catalogues hold.
CONTENT_LANGUAGE = {ENGLISH: "en", CHINESE: "zh-CN"}


def preferred_language(accept_language: str | None) -> str:
    """Chinese when the reader prefers it to English, else English.

    Any `zh` range counts as Chinese (the texts are simplified Chinese, closer to a
    `zh-TW` reader than English is). The highest q wins; of equal q the range listed
    first; `*` stands for a language no range names; q=0 refuses one. A header that
    cannot be read is ignored, since a wrong guess at the language is better than a
    refusal.
    """
    if not accept_language:
        return ENGLISH
    named: dict[str, tuple[float, int]] = {}
    anything: tuple[float, int] | None = None
    for position, item in enumerate(accept_language.split(",")):
        tag, _, parameters = item.strip().partition(";")
        tag = tag.strip().lower()
        quality = _quality(parameters)
        if not tag or quality is None:
            continue
        rank = (quality, -position)
        if tag == "*":
            anything = anything or rank
            continue
        language = _language_of(tag)
        if language is not None and (language not in named or rank > named[language]):
            named[language] = rank
    ranks = {language: named.get(language, anything) for language in (ENGLISH, CHINESE)}
    chinese, english = ranks[CHINESE], ranks[ENGLISH]
    if chinese is not None and chinese[0] > 0 and (english is None or chinese > english):
        return CHINESE
    return ENGLISH


def _language_of(tag: str) -> str | None:
    primary = tag.split("-", 1)[0]
    return {"zh": CHINESE, "en": ENGLISH}.get(primary)


def _quality(parameters: str) -> float | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None
            return quality if 0 <= quality <= 1 else None
    return 1.0
