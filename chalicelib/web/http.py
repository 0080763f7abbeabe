"""HTTP glue for the Chalice routes: access checks, body and query parsing, and the one table
that turns errors into `{"error": {"code", "message", "field"}}` responses."""

from __future__ import annotations

import contextvars
import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs

from chalice.app import Chalice, Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
)
from chalicelib.web import routes
from chalicelib.web.access import Access, Authenticator, Credentials, Principal
from chalicelib.web.link_pages import person_error_page
from chalicelib.web.pages import answering
from chalicelib.web.session_cookie import SessionCookie
from chalicelib.web.wording import message_for

Model = TypeVar("Model", bound=BaseModel)
View = Callable[..., Any]

MAX_BODY_BYTES = 16 * 1024

# The only mapping from domain errors to HTTP status codes.
STATUS_OF: tuple[tuple[type[DomainError], int], ...] = (
    (Unauthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Invalid, 422),
    (TooManyRequests, 429),
)
# Chalice answers some requests itself (wrong method, media type, crashes); same shape for those.
_CHALICE_CODES = {
    "UnsupportedMediaType": "unsupported_media_type",
    "MethodNotAllowedError": "method_not_allowed",
    "BadRequest": "bad_request",
    "InternalServerError": "internal_error",
}


class HttpError(Exception):
    """A problem with the HTTP request itself (body too large, not JSON)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_response(
    status: int, code: str, message: str, field: str | None = None, **extra: Any
) -> Response:
    return Response(
        body={"error": {"code": code, "message": message, "field": field, **extra}},
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def domain_error_response(error: DomainError) -> Response:
    status = next(code for kind, code in STATUS_OF if isinstance(error, kind))
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(error, TooManyRequests):
        headers = {"Retry-After": str(error.retry_after_seconds)}
    response = error_response(status, error.code, message_for(error), error.field)
    response.headers.update(headers)
    return response


def validation_error_response(error: ValidationError, prefix: str = "") -> Response:
    problems = [
        (_field_name(prefix, problem["loc"]), _message(problem))
        for problem in error.errors(include_url=False)
    ]
    field, text = problems[0]
    details = [{"field": name, "message": message} for name, message in problems]
    message = f"{field}: {text}" if field else text
    return error_response(422, "validation_error", message, field, details=details)


def _field_name(prefix: str, location: tuple[int | str, ...]) -> str | None:
    parts = [str(part) for part in location]
    if prefix:
        parts.insert(0, prefix)
    return ".".join(parts) or None


def _message(problem: Any) -> str:
    text = str(problem["msg"])
    for noise in ("Value error, ", "Assertion failed, "):
        text = text.removeprefix(noise)
    return text


def uniform_error_body(response: Response) -> Response:
    """Rewrite Chalice's own `{"Code", "Message"}` errors into this API's error shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = _CHALICE_CODES.get(str(body["Code"]), "error")
        return error_response(response.status_code, code, str(body.get("Message", "")))
    return response


class Api:
    """Guards views and reads requests for one Chalice app."""

    def __init__(
        self,
        app: Chalice,
        authenticator: Callable[[], Authenticator],
        restaurant_name: Callable[[str], str | None],
        session_cookie: Callable[[], SessionCookie],
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._app = app
        self._authenticator = authenticator
        self._restaurant_name = restaurant_name
        self._session_cookie = session_cookie
        self._max_body_bytes = max_body_bytes
        self._principal: contextvars.ContextVar[Principal] = contextvars.ContextVar("principal")

    def guard(self, access: Access, *, html: bool = False) -> Callable[[View], View]:
        """Authorize the caller for `access`, then run the view; any error becomes JSON (or,
        for routes people open from an email, a page in words for people, with the
        restaurant's name)."""

        def decorate(view: View) -> View:
            @functools.wraps(view)
            def guarded(**path: str) -> Any:
                try:
                    principal = self._authorize(access, path)
                    token = self._principal.set(principal)
                    try:
                        return view(**path)
                    finally:
                        self._principal.reset(token)
                except HttpError as error:
                    if html:
                        return self._error_page(access, error.status, error.message, path)
                    return error_response(error.status, error.code, error.message, error.field)
                except ValidationError as error:
                    if html:
                        return self._error_page(access, 422, str(error), path)
                    return validation_error_response(error)
                except DomainError as error:
                    response = domain_error_response(error)
                    if html:
                        return self._error_page(
                            access, response.status_code, message_for(error), path
                        )
                    return response

            guarded.access = access  # type: ignore[attr-defined]
            return self._linked_from_request(guarded) if html else guarded

        return decorate

    def _linked_from_request(self, view: View) -> View:
        """A page's links (its stylesheet, other pages) are written relative to the URL it
        answers, so they hold under API Gateway's stage prefix (`pages.href`)."""

        @functools.wraps(view)
        def linked(**path: str) -> Any:
            request = self._request()
            with answering(request.path, request.context.get("path")):
                return view(**path)

        return linked

    def _error_page(
        self, access: Access, status: int, message: str, path: dict[str, str]
    ) -> Response:
        restaurant_id = path.get("restaurant_id")
        name = self._restaurant_name(restaurant_id) if restaurant_id else None
        return person_error_page(access, status, message, name, restaurant_id)

    def _request(self) -> Request:
        request = self._app.current_request
        assert request is not None
        return request

    def client_address(self) -> str | None:
        """The caller's address as API Gateway saw it (chalice local fills it too)."""
        identity = (self._request().context or {}).get("identity") or {}
        address = identity.get("sourceIp")
        return str(address) if address else None

    def _query(self) -> dict[str, str]:
        return dict(self._request().query_params or {})

    def _authorize(self, access: Access, path: dict[str, str]) -> Principal:
        query = self._query()
        session: dict[str, Any] = {}
        if access is Access.STAFF_SESSION:
            unsafe = self._request().method not in ("GET", "HEAD")
            session = {
                "session": self.session_secret(),
                "unsafe": unsafe,
                "csrf_token": self.form().get(routes.CSRF_FIELD) if unsafe else None,
            }
        credentials = Credentials(
            **session,
            authorization=self._request().headers.get("authorization"),
            manage_token=query.get(routes.MANAGE_TOKEN),
            link_action=query.get(routes.LINK_ACTION),
            link_expires=query.get(routes.LINK_EXPIRES),
            link_signature=query.get(routes.LINK_SIGNATURE),
            link_staff=query.get(routes.LINK_STAFF),
            link_day=query.get(routes.LINK_DAY),
        )
        return self._authenticator().authorize(
            access, credentials, path.get("restaurant_id"), path.get("reservation_id")
        )

    def session_secret(self) -> str | None:
        """The staff session cookie's secret, if the request carries one."""
        return self._session_cookie().read(self._request().headers.get("cookie"))

    @property
    def session_cookie(self) -> SessionCookie:
        return self._session_cookie()

    @property
    def principal(self) -> Principal:
        return self._principal.get()

    def body(self, model: type[Model], *, optional: bool = False) -> Model:
        """The JSON body validated as `model` (400 not JSON, 413 too large, 422 invalid)."""
        raw = self._request().raw_body or b""
        if len(raw) > self._max_body_bytes:
            raise HttpError(
                413, "body_too_large", f"the body must be at most {self._max_body_bytes} bytes"
            )
        if not raw.strip():
            if optional:
                return model.model_validate({})
            raise HttpError(400, "body_required", "send a JSON object as the request body")
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise HttpError(400, "malformed_json", f"the body is not valid JSON: {error}") from None
        if not isinstance(data, dict):
            raise HttpError(400, "malformed_json", "the body must be a JSON object")
        return model.model_validate(data)

    def form(self) -> dict[str, str]:
        """An HTML form's fields (application/x-www-form-urlencoded), first value of each."""
        raw = self._request().raw_body or b""
        if len(raw) > self._max_body_bytes:
            raise HttpError(413, "body_too_large", "the form is too large")
        try:
            text = raw.decode() if isinstance(raw, bytes) else raw
            fields = parse_qs(text, keep_blank_values=False)
        except UnicodeDecodeError:
            raise HttpError(400, "malformed_form", "the form is not valid UTF-8") from None
        return {name: values[0] for name, values in fields.items()}

    def query(self, model: type[Model]) -> Model:
        """The query string validated as `model` (422 naming the parameter)."""
        params = self._query()
        for credential in routes.CREDENTIALS:
            params.pop(credential, None)  # checked by the guard
        return model.model_validate(params)

    def query_param(self, name: str) -> str | None:
        """One query-string parameter as sent, or None."""
        return self._query().get(name)

    def query_params(self) -> dict[str, str]:
        """The query string as sent, one value a name: for a page that words its own errors."""
        return self._query()

    def header(self, name: str) -> str | None:
        value = self._request().headers.get(name)
        return None if value is None else str(value)
