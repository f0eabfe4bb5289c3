"""What every request to ``mlpkit serve`` must show before a handler sees it (an ASGI middleware).

The server trusts no page in the browser. A page of another site can make the browser send requests to
``http://127.0.0.1:8000`` (a form, ``fetch`` in ``no-cors`` mode, an ``<img>``), and a site whose DNS name is
switched to 127.0.0.1 after loading (DNS rebinding) can even read the answers. So:

- **Host** must name the address the server is bound to (for a loopback address: ``127.0.0.1``,
  ``localhost`` or ``[::1]``), with the server's port: a rebinding site sends its own name. A server bound to
  all interfaces (``0.0.0.0``, ``::``) cannot know the names it is reached by and takes any Host; it has a
  token (below). ``--allow-host NAME[:PORT]`` adds the names the server is reached by (its DNS name, or the
  name a reverse proxy passes on, with the proxy's port); given with all interfaces, it makes them (and the
  loopback names) the only ones.
- **Origin**, when the browser sends one, must be the server itself (scheme, host and port); ``null`` (a
  sandboxed frame, a file) is refused. ``Sec-Fetch-Site``, when sent, must be ``same-origin`` or ``none`` for
  the API: a page of another port of the same machine is "same-site" and still refused.
- A request with a **body** must say ``Content-Type: application/json`` (``application/octet-stream`` for a
  model upload). A page of another site cannot send those types without the browser's CORS preflight, which
  this server never answers; ``text/plain``, forms and multipart are refused with 415.
- With a **token** (``mlpkit serve`` makes one whenever ``--host`` or an ``--allow-host`` is not a loopback
  address and prints the address with ``?token=...``), every request but the static files, the charting library and
  ``/api/health`` must carry it: ``Authorization: Bearer TOKEN``, the cookie that the printed address sets
  (``HttpOnly``, ``SameSite=Strict``), or ``?token=TOKEN``. A page opened with ``?token=`` is redirected to
  its plain address once the cookie is set, so the token does not stay in the address bar.

Every refusal is ``{"error": "<one line>"}``: 400 (Host), 401 (token), 403 (Origin), 415 (Content-Type).
Answers also carry ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` (no page of another site
can frame the stop button) and ``Referrer-Policy: no-referrer``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: the names a loopback server answers to
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
#: paths served without the token: files that are the same for everyone, and the health check
PUBLIC_PREFIXES = ("/static/", "/vendor/")
PUBLIC_PATHS = ("/api/health", "/favicon.ico")
TOKEN_COOKIE = "mlpkit_token"
#: the body type each path takes (any other path with a body takes JSON)
RAW_BODY_PATHS = {"/api/models": "application/octet-stream"}
JSON_TYPE = "application/json"
#: methods that may carry a body
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer")]
_HOST = re.compile(r"(?P<name>\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::(?P<port>[0-9]{1,5}))?")
#: a name of ``--allow-host``: a DNS name, an IPv4 address or a bracketed IPv6 address, and an optional port
_ALLOWED = re.compile(r"(?P<name>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)"
                      r"(?::(?P<port>[0-9]{1,5}))?")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_wildcard(host: str) -> bool:
    """True for the all-interfaces addresses ``0.0.0.0`` and ``::`` (and an empty host)."""
    try:
        return host == "" or ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def check_allowed_host(text: str) -> str:
    """``text`` as a value of ``--allow-host`` (``NAME`` or ``NAME:PORT``), lower-cased; ValueError naming it
    otherwise."""
    match = _ALLOWED.fullmatch(text.strip()) if isinstance(text, str) else None
    port = None if match is None or match["port"] is None else int(match["port"])
    if match is None or port == 0 or (port or 0) > 65535:
        raise ValueError(f"--allow-host {str(text)[:100]!r} is not a host name or address with an optional port "
                         "(NAME or NAME:PORT, e.g. mybox.example or mybox.example:443)")
    return text.strip().lower()


def allowed_hosts(host: str, extra: Iterable[str] = ()) -> frozenset[str] | None:
    """The Host names (``NAME`` or ``NAME:PORT``) a server bound to ``host`` answers to, with the ``extra``
    names of ``--allow-host``; None (any) for all interfaces and no extra names."""
    extra = [check_allowed_host(name) for name in extra]
    if is_wildcard(host):
        return frozenset([*LOOPBACK_NAMES, *extra]) if extra else None
    names = {host.strip("[]").lower(), *extra}
    if is_loopback(host):
        names.update(LOOPBACK_NAMES)
    return frozenset(names)


def needs_token(host: str, extra: Iterable[str] = ()) -> bool:
    """Whether a server bound to ``host`` and answering to the ``extra`` names can be reached from another
    machine (directly or through a reverse proxy): then it needs an access token."""
    return not is_loopback(host) or any(entry is not None and not is_loopback(entry[0])
                                        for entry in map(_entry, extra))


def new_token() -> str:
    """A fresh access token: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def _split_host(value: str) -> tuple[str, int | None] | None:
    """(name, port) of a Host header or an Origin's host part; None when it is not one."""
    match = _HOST.fullmatch(value.strip())
    if match is None:
        return None
    port = match["port"]
    return match["name"].strip("[]").lower().rstrip("."), None if port is None else int(port)


def _entry(name: str) -> tuple[str, int | None] | None:
    """(name, port) of an entry of the accepted hosts: ``NAME``, ``NAME:PORT``, or an IPv6 address with or
    without brackets."""
    return _split_host(f"[{name}]" if name.count(":") > 1 and not name.startswith("[") else name)


class Guard:
    """The checks of the module's docstring around ``app``.

    Args:
        app: the ASGI app.
        hosts: the Host names accepted (None: any): ``NAME``, at the server's port, or ``NAME:PORT``, at that
            port (the port a reverse proxy's clients see). A Host without a port names port 80 or 443 (the
            defaults of http and https: which one the client used is not known here).
        port: the port the server listens on (None: any).
        token: the access token (None: none needed).
    """

    def __init__(self, app: ASGIApp, *, hosts: Iterable[str] | None, port: int | None, token: str | None) -> None:
        self.app = app
        self.hosts = None if hosts is None else frozenset(filter(None, map(_entry, hosts)))
        self.port = port
        self.token = token

    def _answers_to(self, name: str, port: int | None) -> bool:
        """Whether the Host ``name:port`` is one of this server's names, at the server's port or one given."""
        ports = (port,) if port is not None else (80, 443)
        if self.hosts is not None and any((name, p) in self.hosts for p in ports):
            return True
        named = self.hosts is None or (name, None) in self.hosts
        return named and (self.port is None or self.port in ports)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan; the app has no websockets
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        refusal = self._check(scope, headers)
        if refusal is not None:
            await _answer(send, *refusal)
            return
        redirect = self._token_from_query(scope, headers)
        if redirect is not None:
            await _answer(send, 303, "", redirect)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    # ---------------------------------------------------------------------------------- checks
    def _check(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        path, method = scope.get("path", ""), scope.get("method", "GET")
        host = headers.get("host")
        if host is None:
            return 400, "the request has no Host header"
        where = _split_host(host)
        if where is None:
            return 400, f"the Host header {host[:100]!r} is not a host name or address"
        name, port = where
        if not self._answers_to(name, port):
            if self.hosts is not None and not any(name == known for known, _ in self.hosts):
                names = sorted(known if at is None else f"{known}:{at}" for known, at in self.hosts)
                return 400, (f"this server answers to {', '.join(names)} only, not to Host {host[:100]!r} (a page "
                             "of another site cannot reach it by another name; mlpkit serve --allow-host adds one)")
            return 400, f"this server listens on port {self.port}, the Host header {host[:100]!r} names another"
        origin = headers.get("origin")
        if origin is not None:
            problem = self._check_origin(origin, host, name, port)
            if problem is not None:
                return 403, problem
        fetch_site = headers.get("sec-fetch-site")
        if path.startswith("/api/") and fetch_site not in (None, "same-origin", "none"):
            return 403, f"the API answers the server's own pages only (Sec-Fetch-Site: {fetch_site[:40]})"
        if self.token is not None and not self._public(path) and not self._has_token(scope, headers):
            return 401, ("this server needs its access token: open the address mlpkit serve printed "
                         "(with ?token=...), or send the header Authorization: Bearer TOKEN")
        if method in BODY_METHODS:
            return self._check_body_type(path, headers)
        return None

    @staticmethod
    def _check_origin(origin: str, host: str, name: str, port: int | None) -> str | None:
        try:
            parts = urlsplit(origin) if origin != "null" else None
        except ValueError:  # "http://[::1" and the like
            parts = None
        where = _split_host(parts.netloc) if parts is not None and parts.scheme in ("http", "https") else None
        if parts is None or where is None:
            return f"requests from the origin {origin[:100]!r} are refused: only the server's own pages may call it"
        default = 443 if parts.scheme == "https" else 80
        if where[0] != name or (where[1] or default) != (port or default):
            return (f"requests from {origin[:100]!r} are refused: only the server's own pages "
                    f"(http://{host[:100]}) may call it")
        return None

    @staticmethod
    def _check_body_type(path: str, headers: dict[str, str]) -> tuple[int, str] | None:
        wanted = RAW_BODY_PATHS.get(path, JSON_TYPE)
        given = headers.get("content-type")
        has_body = headers.get("content-length", "0").strip() not in ("", "0") or "transfer-encoding" in headers
        if given is None:
            if has_body:
                return 415, f"a request with a body must say Content-Type: {wanted}"
            return None
        if given.split(";", 1)[0].strip().lower() != wanted:
            return 415, f"Content-Type must be {wanted}, got {given[:80]!r}"
        return None

    @staticmethod
    def _public(path: str) -> bool:
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

    def _has_token(self, scope: Scope, headers: dict[str, str]) -> bool:
        assert self.token is not None
        given = []
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given.append(value.strip())
        cookie = _cookie(headers.get("cookie", ""))
        if cookie is not None:
            given.append(cookie)
        given.extend(v for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1")) if k == "token")
        return any(secrets.compare_digest(g.encode(), self.token.encode()) for g in given)

    def _token_from_query(self, scope: Scope, headers: dict[str, str]) -> tuple[str, str] | None:
        """For a page (not the API) opened with a valid ``?token=``: the redirect to its plain address, with
        the cookie; None otherwise."""
        if self.token is None or scope.get("method") != "GET" or scope.get("path", "").startswith("/api/"):
            return None
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        if not any(k == "token" and secrets.compare_digest(v.encode(), self.token.encode()) for k, v in query):
            return None
        rest = urlencode([(k, v) for k, v in query if k != "token"])
        location = scope.get("path", "/") + (f"?{rest}" if rest else "")
        cookie = f"{TOKEN_COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
        return location, cookie


def _cookie(header: str) -> str | None:
    try:
        jar = SimpleCookie(header)
    except CookieError:  # a malformed Cookie header is a missing cookie
        return None
    morsel = jar.get(TOKEN_COOKIE)
    return None if morsel is None else morsel.value


async def _answer(send: Send, status: int, message: str, redirect: tuple[str, str] | None = None) -> None:
    headers = [(b"cache-control", b"no-store"), *SECURITY_HEADERS]
    if redirect is not None:
        location, cookie = redirect
        body = b""
        headers += [(b"location", location.encode("latin-1", "replace")), (b"set-cookie", cookie.encode())]
    else:
        body = json.dumps({"error": message}).encode("utf-8")
        headers.append((b"content-type", b"application/json"))
    headers.append((b"content-length", str(len(body)).encode()))
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="mlpkit serve"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
