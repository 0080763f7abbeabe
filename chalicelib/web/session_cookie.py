"""The staff session cookie: HttpOnly, SameSite=Strict, and outside `local` (where the API is
served over HTTPS) Secure with the `__Host-` prefix, so no other host or plain-HTTP response can
plant one."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from chalicelib.services.staff_sessions import SESSION_LENGTH

_NAME = "staff_session"


class SessionCookie:
    def __init__(self, secure: bool) -> None:
        self.secure = secure
        self.name = f"__Host-{_NAME}" if secure else _NAME

    def read(self, header: str | None) -> str | None:
        """The session secret a request's Cookie header carries, or None."""
        if not header:
            return None
        cookies: SimpleCookie = SimpleCookie()
        try:
            cookies.load(header)
        except CookieError:
            return None
        morsel = cookies.get(self.name)
        return morsel.value if morsel is not None and morsel.value else None

    def set(self, secret: str) -> str:
        """The Set-Cookie header value that stores `secret` for a session's length."""
        return self._header(secret, int(SESSION_LENGTH.total_seconds()))

    def clear(self) -> str:
        return self._header("", 0)

    def _header(self, value: str, max_age: int) -> str:
        secure = "; Secure" if self.secure else ""
        return f"{self.name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
