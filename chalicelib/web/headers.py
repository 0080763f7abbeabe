"""The security headers every response carries, JSON and pages alike: the one place they are
set (the app's middleware calls `secured` on every response, Chalice's own errors included).

- `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (several URLs carry a
  token), `X-Frame-Options: DENY`, and a `Content-Security-Policy` that lets a JSON body run,
  load or frame nothing; pages send their own policy (`pages.PAGE_POLICY`), which is kept.
- `Strict-Transport-Security` for two years with subdomains wherever the API is served over
  HTTPS: every stage but `local` (`make run` serves plain HTTP on 127.0.0.1, where browsers
  ignore the header anyway).
- No `Server` header from the app: one a view set is dropped. API Gateway and CloudFront add
  their own, which the app cannot remove.
"""

from __future__ import annotations

from chalice.app import Response

TWO_YEARS = 2 * 365 * 24 * 3600
STRICT_TRANSPORT = f"max-age={TWO_YEARS}; includeSubDomains"
# A JSON answer is data: nothing in it may run, load or be framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'"

COMMON: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def secured(response: Response, *, https: bool) -> Response:
    """`response` with the common security headers (a page's own policy is kept)."""
    headers = response.headers
    for name in [n for n in headers if n.lower() == "server"]:
        del headers[name]
    headers.update(COMMON)
    headers.setdefault("Content-Security-Policy", API_POLICY)
    if https:
        headers["Strict-Transport-Security"] = STRICT_TRANSPORT
    return response
