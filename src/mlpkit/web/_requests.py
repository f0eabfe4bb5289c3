"""Reading and checking request bodies: every problem becomes a 4xx answer with a one-line message.

Handlers raise :class:`BadRequest`; the app turns it into ``{"error": message}`` with its status (400 for
a malformed or invalid request, 404 for an unknown id, 409 for a conflict, 413 for a body over the limit).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request

#: largest JSON body accepted by default (a 280 x 280 drawing as JSON numbers is about 400 kB)
MAX_JSON_BYTES = 2 * 1024 * 1024


class BadRequest(Exception):
    """A request the server refuses: ``status`` (4xx) and a message saying what was wrong."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


async def read_body(request: Request, limit: int, what: str = "request body") -> bytes:
    """The raw body, refused with 413 as soon as it grows past ``limit`` bytes (not read to the end)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(f"{what} is {int(declared)} bytes; the limit is {limit} bytes", 413)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"{what} is larger than the limit of {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The body as a JSON object (400 when it is not valid JSON or not an object)."""
    raw = await read_body(request, limit, "the JSON body")
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest(f"the body must be a JSON object {{...}}, got a {type(value).__name__}")
    return value


def check_keys(body: dict[str, Any], allowed: Sequence[str]) -> None:
    """400 naming the first unknown key and listing the allowed ones."""
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}")


def number(body: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    """A finite number in [low, high] (JSON numbers only; true/false are not numbers)."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise BadRequest(f"{key} must be a finite number, got {value!r}")
    if not low <= value <= high:
        raise BadRequest(f"{key} must be between {low:g} and {high:g}, got {value:g}")
    return float(value)


def integer(body: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    """A whole number in [low, high]."""
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{key} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise BadRequest(f"{key} must be between {low} and {high}, got {value}")
    return value


def choice(body: dict[str, Any], key: str, default: str, allowed: Sequence[str]) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise BadRequest(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
    return value
