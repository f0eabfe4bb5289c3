"""Reading and checking request bodies: every problem becomes a 4xx answer with a one-line message.

Handlers raise :class:`BadRequest`; the app turns it into ``{"error": message}`` with its status (400 for
a malformed or invalid request, 404 for an unknown id, 409 for a conflict, 413 for a body over the limit,
429 when a limit on concurrent work is reached).

A JSON body is refused (400) unless it is strict JSON (RFC 8259) of bounded shape: no NaN or Infinity, no
number of more than :data:`MAX_INT_DIGITS` digits or beyond the range of a double, no nesting deeper than
:data:`MAX_JSON_DEPTH`, no text that is not Unicode (a lone surrogate such as ``"\\ud800"``: it could not be
written back as UTF-8). So a handler only ever sees values it can echo, store and answer with.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

#: largest JSON body accepted by default (a 280 x 280 drawing as JSON numbers is about 400 kB)
MAX_JSON_BYTES = 2 * 1024 * 1024
#: deepest nesting of arrays and objects in a JSON body, and the most digits of a whole number in it (a
#: float64 holds 15 to 17 significant digits; a JavaScript number holds integers to 2**53, 16 digits)
MAX_JSON_DEPTH, MAX_INT_DIGITS = 32, 18
#: the most characters of a number with a fraction or exponent ("-1.2345678901234567e-308" is 24)
MAX_FLOAT_CHARS = 40
#: the most digits of a declared Content-Length read as a number
_LENGTH = re.compile(r"[0-9]{1,15}")
#: an event number (Last-Event-ID, ?from=): ASCII digits only ("²".isdigit() is True in Python)
_EVENT_ID = re.compile(r"[0-9]{1,9}")


#: the longest message of a refusal (what a request quoted beyond it is cut)
MAX_MESSAGE = 400


class BadRequest(Exception):
    """A request the server refuses: ``status`` (4xx) and a message saying what was wrong (one line, at most
    :data:`MAX_MESSAGE` characters: whatever the request quoted in it is cut)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        message = " ".join(message.split())
        self.message = message if len(message) <= MAX_MESSAGE else f"{message[:MAX_MESSAGE - 3]}..."
        self.status = status


async def read_body(request: Request, limit: int, what: str = "request body") -> bytes:
    """The raw body, refused with 413 as soon as it grows past ``limit`` bytes (not read to the end)."""
    declared = request.headers.get("content-length")
    if declared is not None and not _LENGTH.fullmatch(declared):
        raise BadRequest(f"Content-Length must be a number of bytes, got {shown(declared)}")
    if declared is not None and int(declared) > limit:
        raise BadRequest(f"{what} is {int(declared)} bytes; the limit is {limit} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"{what} is larger than the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def shown(text: str, width: int = 40) -> str:
    """``repr(text)``, cut to ``width`` characters with its length when longer (for messages)."""
    return repr(text) if len(text) <= width else f"{text[:width]!r}... ({len(text)} characters)"


def shown_value(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters (a request's value quoted in a message)."""
    text = repr(value)
    return text if len(text) <= width else f"{text[:width]}... ({len(text)} characters)"


def _parse_int(text: str) -> int:
    if len(text) - text.startswith("-") > MAX_INT_DIGITS:
        raise BadRequest(f"the body holds a whole number of {len(text.lstrip('-'))} digits; at most "
                         f"{MAX_INT_DIGITS} are accepted")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text) if len(text) <= MAX_FLOAT_CHARS else math.inf
    if not math.isfinite(value):
        raise BadRequest(f"the body holds the number {shown(text, 24)}, which is not a finite double")
    return value


def _parse_constant(name: str) -> Any:
    raise BadRequest(f"the body holds {name}, which is not JSON: numbers must be finite")


def parse_json(raw: bytes) -> Any:
    """``raw`` as strict, bounded JSON (see the module's docstring); BadRequest says what is wrong."""
    try:
        value = json.loads(raw, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    except RecursionError:
        raise BadRequest(f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise BadRequest(f"the body is not valid JSON: {' '.join(str(exc).split())}") from None
    _check_shape(value)
    return value


def _check_shape(value: Any) -> None:
    """Depth at most MAX_JSON_DEPTH and every string (keys too) encodable as UTF-8; iterative, no recursion."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, (list, dict)):
            if depth > MAX_JSON_DEPTH:
                raise BadRequest(f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels")
            if isinstance(item, dict):
                for key in item:
                    _check_text(key)
                item = item.values()
            stack.extend((child, depth + 1) for child in item if isinstance(child, (str, list, dict)))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest("the body holds text that is not Unicode (a lone surrogate such as \\ud800)") from None


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The body as a JSON object (400 when it is not valid, bounded JSON or not an object)."""
    raw = await read_body(request, limit, "the JSON body")
    if not raw.strip():
        return {}
    value = parse_json(raw)
    if not isinstance(value, dict):
        raise BadRequest(f"the body must be a JSON object {{...}}, got a {type(value).__name__}")
    return value


def event_number(raw: str | None, what: str) -> int | None:
    """An event number from a header or query parameter (None when absent); 400 unless 0 to 999,999,999."""
    if raw is None:
        return None
    if not _EVENT_ID.fullmatch(raw):
        raise BadRequest(f"{what} must be an event number (ASCII digits, at most 9), got {shown(raw)}")
    return int(raw)


def check_keys(body: dict[str, Any], allowed: Sequence[str]) -> None:
    """400 naming the first unknown key and listing the allowed ones."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")


def number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    """A finite number in [low, high] (JSON numbers only; true/false are not numbers)."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{key} must be a finite number, got {shown_value(value)}")
    if not low <= value <= high:
        raise BadRequest(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def integer(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{key} must be a whole number, got {shown_value(value)}")
    if not low <= value <= high:
        raise BadRequest(f"{key} must be between {low} and {high}, got {value}")
    return value


def choice(body: dict[str, Any], key: str, default: str, allowed: Sequence[str]) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise BadRequest(f"{key} must be one of {', '.join(allowed)}, got {shown_value(value)}")
    return value
