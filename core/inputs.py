"""Checks every way in shares (API, fast postback, pixel, forms): JSON bodies of bounded depth, text without NUL
or lone surrogates, and the JSON parser the API uses. Each check raises `InputError` with a message for the caller.

PostgreSQL refuses NUL in text (and `\\u0000` in jsonb) and no database takes a lone surrogate (not UTF-8): refused
here, both databases and both postback paths give the same 400 instead of SQLite storing what PostgreSQL fails on.
"""

import codecs
import json
import re

from django.conf import settings
from rest_framework import exceptions, parsers

# Real bodies nest three or four levels (a program's rules and tiers); deeper is an attack on the decoder.
MAX_JSON_DEPTH = 32
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


class InputError(ValueError):
    """Input that is refused with a 400; `field` names the top-level field it came in, when known."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def text_problem(value: str) -> str | None:
    """Why `value` may not be stored as text (a NUL or a lone surrogate), or None."""
    match = _BAD_TEXT.search(value)
    if match is None:
        return None
    if match.group() == "\x00":
        return "Null characters are not allowed."
    return f"Surrogate characters are not allowed: U+{ord(match.group()):04X}."


def without_bad_text(value: str) -> str:
    """`value` without its NUL characters and lone surrogates: for what is recorded rather than refused (a click's
    sub IDs and headers: the visitor is redirected whatever they hold)."""
    return _BAD_TEXT.sub("", value) if _BAD_TEXT.search(value) else value


def clean_text(value: str, field: str | None = None) -> str:
    """`value` unchanged, or InputError for a NUL or a lone surrogate."""
    problem = text_problem(value)
    if problem is not None:
        raise InputError(problem, field)
    return value


def check_json_value(value, max_depth: int = MAX_JSON_DEPTH) -> None:
    """InputError unless `value` nests at most `max_depth` levels and every key and string is clean text.
    Iterative: a deep value cannot exhaust the stack here."""
    stack = [(value, 1, None)]
    while stack:
        item, depth, field = stack.pop()
        if isinstance(item, str):
            clean_text(item, field)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InputError(f"JSON nested deeper than {max_depth} levels.", field)
            if isinstance(item, dict):
                for key, child in item.items():
                    name = key if field is None and depth == 1 else field
                    clean_text(key, field)
                    stack.append((child, depth + 1, name))
            else:
                stack.extend((child, depth + 1, field) for child in item)


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def loads_json(raw: bytes | str, max_depth: int = MAX_JSON_DEPTH):
    """The decoded JSON document, or InputError (malformed, too deep, NUL or lone surrogates in a string)."""
    try:
        value = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as exc:
        raise InputError(f"JSON nested deeper than {max_depth} levels.") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise InputError(f"JSON parse error - {exc}") from exc
    check_json_value(value, max_depth)
    return value


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with `loads_json`'s checks: a refused string answers a field error under its top-level
    field (`{"order_id": ["Null characters are not allowed."]}`), anything else `{"detail": ...}`."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            raw = codecs.getreader(encoding)(stream).read() if stream is not None else ""
        except (UnicodeDecodeError, LookupError) as exc:
            raise exceptions.ParseError(f"JSON parse error - {exc}") from exc
        try:
            return loads_json(raw)
        except InputError as exc:
            if exc.field is not None:
                raise exceptions.ValidationError({exc.field: [str(exc)]}) from exc
            raise exceptions.ParseError(str(exc)) from exc
