"""A password in front of `congvan serve` when it listens beyond loopback.

The letters are internal documents: on 127.0.0.1 only the machine's own users
reach them, but bound to any other address every request must carry the
password, as HTTP Basic authentication (the browser asks once; the user name
is who the desk records as making corrections) or as `Authorization: Bearer
PASSWORD` for scripts.  Anything else gets 401.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

USER_SCOPE_KEY = "congvan_user"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check(header: str, password: str) -> str | None:
    """The user name when the Authorization header carries the password, else None."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return "token" if hmac.compare_digest(value.strip().encode(), password.encode()) else None
    if scheme.lower() == "basic":
        try:
            user, _, given = base64.b64decode(value.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return (user or "desk") if hmac.compare_digest(given.encode(), password.encode()) else None
    return None


def require_password(app: ASGIApp, password: str, realm: str = "congvan") -> ASGIApp:
    """Wrap an ASGI app so every HTTP request must carry `password`."""
    if not password:
        raise ValueError("an empty password protects nothing")

    async def guarded(scope: Scope, receive: Callable[[], Awaitable[Any]],
                      send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        user = _check(headers.get(b"authorization", b"").decode("latin-1"), password)
        if user is None:
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"www-authenticate", f'Basic realm="{realm}", charset="UTF-8"'.encode())]})
            await send({"type": "http.response.body", "body": "Cần mật khẩu / password required\n".encode()})
            return
        scope[USER_SCOPE_KEY] = user
        await app(scope, receive, send)

    return guarded
