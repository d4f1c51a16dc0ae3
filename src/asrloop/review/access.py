"""Who may use the review page: a Host allow-list, a token off loopback, a CSRF token on saves.

* **Host**: only the names the page is served as (loopback names, the bound host and
  ``review.allowed_hosts``) are answered, so a DNS-rebinding page cannot reach the server.
* **Token**: bound to anything but loopback, the page needs ``review.token`` (or
  ``ASRLOOP_REVIEW_TOKEN``): a reviewer opens ``/?token=...`` once and the browser keeps it in an
  HttpOnly, SameSite=Strict cookie; scripts send ``Authorization: Bearer ...``. Without a token the
  server refuses to start off loopback.
* **CSRF**: every save carries the page's per-server token in ``X-CSRF-Token`` (the page embeds
  it; another site's page cannot read it).
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from asrloop.errors import ConfigError

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
CSRF_HEADER = "x-csrf-token"
TOKEN_COOKIE = "asrloop_review"
TOKEN_QUERY = "token"
MIN_TOKEN_CHARS = 16
SAFE_METHODS = ("GET", "HEAD")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Access:
    """What the page checks on every request."""

    hosts: frozenset[str]
    token: str | None
    csrf: str

    @classmethod
    def for_binding(cls, host: str, allowed_hosts: Iterable[str] = (), token: str | None = None):
        """The rules for a page bound to ``host``: off loopback a token of at least
        ``MIN_TOKEN_CHARS`` characters is required (a :class:`ConfigError` otherwise)."""
        token = token or None
        if not is_loopback(host) and token is None:
            raise ConfigError(
                f"review.host={host}: the review page is served beyond this machine, so it needs "
                "a login: set review.token (or ASRLOOP_REVIEW_TOKEN) to a long random secret, "
                "or keep review.host=127.0.0.1 behind an authenticating proxy (SECURITY.md)"
            )
        if token is not None and len(token) < MIN_TOKEN_CHARS:
            raise ConfigError(f"review.token: at least {MIN_TOKEN_CHARS} characters")
        names = {*LOOPBACK_NAMES, host, *(h.lower() for h in allowed_hosts)}
        names.discard("0.0.0.0")
        names.discard("::")
        return cls(frozenset(n.lower() for n in names), token, secrets.token_urlsafe(24))


def host_name(header: str) -> str:
    """The name of a ``Host`` header, without the port (``[::1]:80`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def _same(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    return value[7:].strip() if value.lower().startswith("bearer ") else None


def install(app: FastAPI, access: Access) -> None:
    """Check every request against ``access`` before the app sees it."""

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if host_name(request.headers.get("host", "")) not in access.hosts:
            return JSONResponse({"error": "host not allowed"}, status_code=400)
        from_query = False
        if access.token is not None:
            given = request.cookies.get(TOKEN_COOKIE) or bearer(request)
            if not _same(given, access.token):
                given, from_query = request.query_params.get(TOKEN_QUERY), True
            if not _same(given, access.token):
                return JSONResponse({"error": "login required (review token)"}, status_code=401)
        if request.method not in SAFE_METHODS and not _same(
            request.headers.get(CSRF_HEADER), access.csrf
        ):
            return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
        response = await call_next(request)
        if from_query:
            response.set_cookie(TOKEN_COOKIE, access.token, httponly=True, samesite="strict")
        return response
