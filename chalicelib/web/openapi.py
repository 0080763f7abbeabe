"""The API's contract as an OpenAPI 3.1 document, built from the app's own route table and the
pydantic models: every route Chalice serves must have an entry in `OPERATIONS` (the document
refuses to build otherwise), and its bodies, queries and answers are the models' JSON schemas.

Served at GET /openapi.json (imported by that route only, so cold starts never pay for it) and
committed as docs/openapi.json (`make openapi`; a test fails when the two differ).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalicelib.domain.reservations import DeclineReservation, RequestReservation, Reservation
from chalicelib.domain.reservations import Status as ReservationStatus
from chalicelib.domain.restaurants import NewRestaurant, Restaurant, RestaurantSettings
from chalicelib.web import routes
from chalicelib.web.access import Access
from chalicelib.web.api_models import (
    AvailabilityQuery,
    DaySheetQuery,
    DayViewQuery,
    IssueStaffToken,
    SummaryQuery,
)

OPENAPI_PATH = "/openapi.json"
REF = "#/components/schemas/{model}"
HTML = "text/html"
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"

# -- what the API answers (the domain's views, as the routes return them) ------------------------


class ErrorProblem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str | None
    message: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, examples=["validation_error", "slot_full"])]
    message: str
    field: str | None
    details: list[ErrorProblem] | None = Field(None, description="validation errors: each problem")


class Error(BaseModel):
    """Every error of the JSON API: `{"error": {"code", "message", "field"}}`."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorBody


def _view_of(
    model: type[BaseModel], name: str, doc: str, drop: set[str], **add: Any
) -> type[BaseModel]:
    """`model`'s fields, less those its view leaves out, plus those it adds."""
    fields: dict[str, Any] = {
        n: (f.annotation, f) for n, f in model.model_fields.items() if n not in drop
    }
    fields.update(add)
    view: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid"), __doc__=doc, **fields
    )
    return view


# Reservation.public() and Booking.view()
ReservationView = _view_of(
    Reservation,
    "ReservationView",
    "A reservation as guests and staff see it.",
    {"manage_token_hash"},
    starts_at_utc=(datetime, ...),
)
BookingView = _view_of(
    Reservation,
    "BookingView",
    "The answer to a booking request: the reservation and the guest's manage token.",
    {"manage_token_hash"},
    starts_at_utc=(datetime, ...),
    manage_token=(str, ...),
)
# Restaurant.public_profile()
RestaurantProfile = _view_of(
    Restaurant,
    "RestaurantProfile",
    "The public profile: never staff contacts, capacity or bookkeeping.",
    {"staff_emails", "contact_email", "capacity", "version", "created_at", "updated_at"},
)


class StaffTokenView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    restaurant_id: str
    label: str
    created_at: datetime


class IssuedStaffTokenView(StaffTokenView):
    token: Annotated[str, Field(description="the secret: shown once, never again")]


class StaffTokenList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_tokens: list[StaffTokenView]


class SignInLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sign_in_url: Annotated[str, Field(description="signs a browser in to the day view (30 min)")]


class Seating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime
    available: bool


class AvailabilityView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restaurant_id: str
    date: date
    party_size: int
    timezone: str
    slots: list[Seating]


class DaySheet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    reservations: list[ReservationView]  # type: ignore[valid-type]


class TimelineStepView(BaseModel):
    """One step; besides `at` and `what`, the step's details (event, to, subject, error…)."""

    model_config = ConfigDict(extra="allow")

    at: datetime
    what: str


class TimelineView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reservation_id: str
    status: ReservationStatus
    steps: list[TimelineStepView]


class DailySummaryView(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: date
    requested: int
    pending: int
    accepted: int
    declined: int
    cancelled: int
    covers_booked: int


# -- the operations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What one route takes and answers, beyond what the route table says."""

    summary: str
    status: int  # of success
    answer: type[BaseModel] | None = None  # the success's JSON body; None: no JSON body
    body: type[BaseModel] | None = None  # a JSON request body
    body_optional: bool = False
    query: type[BaseModel] | None = None
    params: tuple[str, ...] = ()  # query parameters not in a model (pages, signed links)
    conflict: bool = False  # may answer 409
    limited: bool = False  # may answer 429 (a daily limit on booking requests)
    redirects: bool = False  # a page that may answer 303 See Other
    headers: tuple[str, ...] = ()  # request headers it reads
    tag: str = "reservations"


R, RES = routes.RESTAURANT, routes.RESERVATION
PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    routes.RESPOND: (routes.LINK_ACTION, routes.LINK_EXPIRES, routes.LINK_SIGNATURE),
    routes.MANAGE: (routes.MANAGE_TOKEN, routes.CANCEL_STEP),
    routes.STAFF_SIGN_IN: (
        routes.LINK_STAFF,
        routes.LINK_DAY,
        routes.LINK_EXPIRES,
        routes.LINK_SIGNATURE,
    ),
    routes.BOOK: ("date", "party_size", "time"),
}

# (method, path) -> the operation. A route Chalice serves without an entry here fails the build.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", OPENAPI_PATH): Operation("This document", 200, tag="contract"),
    ("POST", "/restaurants"): Operation(
        "Create a restaurant", 201, Restaurant, NewRestaurant, conflict=True, tag="restaurants"
    ),
    ("PUT", R): Operation(
        "Replace a restaurant's settings (version + 1)",
        200,
        Restaurant,
        RestaurantSettings,
        conflict=True,
        tag="restaurants",
    ),
    ("GET", R): Operation(
        "A restaurant's public profile", 200, RestaurantProfile, tag="restaurants"
    ),
    ("POST", R + "/staff-tokens"): Operation(
        "Issue a staff token (shown once)", 201, IssuedStaffTokenView, IssueStaffToken, tag="staff"
    ),
    ("GET", R + "/staff-tokens"): Operation(
        "List staff tokens (never the secrets)", 200, StaffTokenList, tag="staff"
    ),
    ("DELETE", R + "/staff-tokens/{token_id}"): Operation("Revoke a staff token", 204, tag="staff"),
    ("POST", R + "/staff-sessions"): Operation(
        "A 30-minute link that signs a browser in to the day view", 201, SignInLink, tag="staff"
    ),
    ("GET", R + "/availability"): Operation(
        "The day's seatings, each available or not for a party",
        200,
        AvailabilityView,
        query=AvailabilityQuery,
    ),
    ("POST", R + "/reservations"): Operation(
        "Request a table (honours Idempotency-Key)",
        201,
        BookingView,
        RequestReservation,
        conflict=True,
        limited=True,
        headers=("Idempotency-Key",),
    ),
    ("GET", R + "/reservations"): Operation(
        "The day's reservations, by time", 200, DaySheet, query=DaySheetQuery
    ),
    ("GET", RES): Operation("One reservation", 200, ReservationView),
    ("POST", RES + "/cancel"): Operation(
        "Cancel (guests: until the seating time)", 200, ReservationView, conflict=True
    ),
    ("DELETE", RES + "/guest"): Operation(
        "Remove the guest's name, email, phone and notes, once the reservation is over",
        200,
        ReservationView,
        conflict=True,
    ),
    ("POST", RES + "/accept"): Operation(
        "Accept a pending request", 200, ReservationView, conflict=True
    ),
    ("POST", RES + "/decline"): Operation(
        "Decline, with an optional reason",
        200,
        ReservationView,
        DeclineReservation,
        body_optional=True,
        conflict=True,
    ),
    ("GET", RES + "/timeline"): Operation(
        "What happened to a reservation and what was sent", 200, TimelineView
    ),
    ("GET", R + "/summary"): Operation(
        "The day's totals, kept from the stream", 200, DailySummaryView, query=SummaryQuery
    ),
    ("GET", routes.RESPOND): Operation("Staff accept/decline page (email link)", 200, tag="pages"),
    ("POST", routes.RESPOND): Operation("Staff accept/decline answered", 200, tag="pages"),
    ("GET", routes.MANAGE): Operation(
        "The guest's page: view, cancel, remove their details", 200, tag="pages"
    ),
    ("POST", routes.MANAGE): Operation(
        "The guest cancels, or removes their details", 200, conflict=True, tag="pages"
    ),
    ("GET", routes.BOOK): Operation("The booking page", 200, tag="pages"),
    ("POST", routes.BOOK): Operation(
        "The booking form sent", 200, conflict=True, limited=True, tag="pages"
    ),
    ("GET", routes.STATIC): Operation("The pages' stylesheet (by content hash)", 200, tag="pages"),
    ("GET", routes.STAFF_DAY): Operation(
        "The staff day view", 200, query=DayViewQuery, tag="pages"
    ),
    ("POST", routes.STAFF_DAY): Operation(
        "Accept or decline from the day view", 303, conflict=True, redirects=True, tag="pages"
    ),
    ("GET", routes.STAFF_SIGN_IN): Operation(
        "Sign-in page (a link's button, or ask for a link)", 200, tag="pages"
    ),
    ("POST", routes.STAFF_SIGN_IN): Operation(
        "Start a staff session from a sign-in link", 303, redirects=True, tag="pages"
    ),
    ("POST", routes.STAFF_SIGN_IN_LINK): Operation(
        "Ask for a sign-in link by email", 200, tag="pages"
    ),
    ("POST", routes.STAFF_SIGN_OUT): Operation(
        "End the staff session", 303, redirects=True, tag="pages"
    ),
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "adminToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "The stage's admin token.",
    },
    "staffToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A staff token of the restaurant in the path (POST …/staff-tokens).",
    },
    "manageToken": {
        "type": "apiKey",
        "in": "query",
        "name": routes.MANAGE_TOKEN,
        "description": "The reservation's manage token (the booking's `manage_token`).",
    },
    "staffLink": {
        "type": "apiKey",
        "in": "query",
        "name": routes.LINK_SIGNATURE,
        "description": "A signed, expiring accept/decline link from a staff email "
        "(with `action` and `expires`).",
    },
    "signInLink": {
        "type": "apiKey",
        "in": "query",
        "name": routes.LINK_SIGNATURE,
        "description": "A signed, expiring sign-in link (with `staff`, `day`, `expires`).",
    },
    "staffSession": {
        "type": "apiKey",
        "in": "cookie",
        "name": "staff_session",
        "description": "A signed-in staff browser (`__Host-staff_session` outside local); "
        "its forms carry the session's `csrf_token`.",
    },
}
SECURITY: dict[Access, list[dict[str, list[str]]]] = {
    Access.PUBLIC: [],
    Access.ADMIN: [{"adminToken": []}],
    Access.STAFF: [{"staffToken": []}, {"adminToken": []}],
    Access.GUEST_OR_STAFF: [{"manageToken": []}, {"staffToken": []}, {"adminToken": []}],
    Access.STAFF_LINK: [{"staffLink": []}],
    Access.STAFF_SESSION: [{"staffSession": []}],
    Access.STAFF_SIGN_IN: [{"signInLink": []}],
}
ERROR_WORDS = {
    400: "The body is not JSON, not an object, or missing",
    401: "No token, or one that is not known",
    403: "A token for another restaurant or role",
    404: "Unknown restaurant, reservation or token",
    405: "A method the path does not take",
    409: "No capacity left, a forbidden status change, or a concurrent edit",
    413: "The body is over 16 KiB",
    415: "Not the media type the operation takes",
    422: "The shape, a type or a booking rule; an Idempotency-Key reused with another body",
    429: "Too many booking requests today from this client address or for this guest email "
    "at this restaurant; Retry-After: seconds until the restaurant's next midnight",
}
RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
_PATH_PARAM = re.compile(r"\{([a-z_]+)\}")


class UndocumentedRoute(Exception):
    """A route the app serves has no entry in OPERATIONS, or an entry names no route."""


def document(route_table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the routes (Chalice's `app.routes`: path -> method ->
    RouteEntry)."""
    served = {(method, path) for path, methods in route_table.items() for method in methods}
    missing = sorted(served - OPERATIONS.keys())
    stale = sorted(OPERATIONS.keys() - served)
    if missing or stale:
        raise UndocumentedRoute(f"undocumented routes {missing}; entries without a route {stale}")
    paths: dict[str, dict[str, Any]] = {}
    for path in sorted(route_table):
        for method in sorted(route_table[path]):
            entry = route_table[path][method]
            paths.setdefault(path, {})[method.lower()] = _operation(
                method, path, entry, OPERATIONS[(method, path)]
            )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Restaurant reservations",
            "version": "1",
            "description": "Guests request tables; staff accept or decline. Every JSON error "
            'is `{"error": {"code", "message", "field"}}` (validation errors add `details`), '
            "also a 405 for a method a path does not take (`Error405`); pages people open "
            "from an email answer in HTML, their errors too. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "responses": {
                _error_name(status): {
                    "description": words,
                    "content": {JSON: {"schema": _ref(Error)}},
                    **({"headers": RETRY_AFTER} if status == 429 else {}),
                }
                for status, words in ERROR_WORDS.items()
            },
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _schemas() -> dict[str, Any]:
    models: set[tuple[type[BaseModel], JsonSchemaMode]] = {(Error, "serialization")}
    for operation in OPERATIONS.values():
        if operation.answer is not None:
            models.add((operation.answer, "serialization"))
        if operation.body is not None:
            models.add((operation.body, "validation"))
    ordered = sorted(models, key=lambda pair: (pair[0].__name__, pair[1]))
    _, top = models_json_schema(ordered, ref_template=REF)
    schemas: dict[str, Any] = top.get("$defs", {})
    return dict(sorted(schemas.items()))


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _operation(method: str, path: str, entry: Any, operation: Operation) -> dict[str, Any]:
    view = entry.view_function
    access: Access = view.access
    html = _answers_html(view)
    spec: dict[str, Any] = {
        "operationId": entry.view_name,
        "summary": operation.summary,
        "tags": [operation.tag],
        "security": SECURITY[access],
        "parameters": _parameters(path, operation),
        "responses": _responses(path, entry, operation, access, html),
    }
    if operation.body is not None:
        spec["requestBody"] = {
            "required": not operation.body_optional,
            "content": {JSON: {"schema": _ref(operation.body)}},
        }
    elif FORM in entry.content_types:
        spec["requestBody"] = {
            "required": False,
            "content": {
                FORM: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}
            },
        }
    return spec


def _answers_html(view: Any) -> bool:
    """Pages people open from an email answer in HTML (the guard's `html=True`)."""
    return bool(getattr(view, "__wrapped__", None) and hasattr(view.__wrapped__, "__wrapped__"))


def _parameters(path: str, operation: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAM.findall(path)
    ]
    if operation.query is not None:
        schema = operation.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
            if name == "status":  # sent comma separated: PENDING,ACCEPTED
                prop = {"type": "string", "pattern": r"^[A-Za-z, ]*$"}
            elif name == "date":
                prop = {"type": "string", "format": "date"}
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    for name in operation.params or PAGE_PARAMS.get(path, ()):
        params.append(
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        )
    for name in operation.headers:
        params.append(
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _responses(
    path: str, entry: Any, operation: Operation, access: Access, html: bool
) -> dict[str, Any]:
    statuses = {415}  # Chalice checks every request's Content-Type, a GET's too
    if access is not Access.PUBLIC:
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if operation.body is not None or FORM in entry.content_types:
        statuses |= {400, 413, 422}
    if operation.query is not None or operation.body is not None or html:
        statuses.add(422)
    if operation.conflict:
        statuses.add(409)
    if operation.limited:
        statuses.add(429)
    responses: dict[str, Any] = {str(operation.status): _success(path, operation, html)}
    if operation.redirects:
        responses["303"] = {
            "description": "See Other: the page to show next",
            "headers": {"Location": {"schema": {"type": "string"}}},
        }
    if path == routes.STATIC:
        responses["304"] = {"description": "Not Modified: the stylesheet the browser holds"}
    for status in sorted(statuses):
        responses[str(status)] = _error(status, html and status != 415)
    return dict(sorted(responses.items()))


def _success(path: str, operation: Operation, html: bool) -> dict[str, Any]:
    if path == OPENAPI_PATH:
        return {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {"type": "object"}}}}
    if path == routes.STATIC:
        return {
            "description": "The stylesheet",
            "content": {"text/css": {"schema": {"type": "string"}}},
        }
    if html:
        return {"description": "The page", "content": {HTML: {"schema": {"type": "string"}}}}
    if operation.answer is None:
        return {"description": "Done; no body"}
    content = {JSON: {"schema": _ref(operation.answer)}}
    return {"description": operation.summary, "content": content}


def _error(status: int, html: bool) -> dict[str, Any]:
    if html:
        content: dict[str, Any] = {HTML: {"schema": {"type": "string"}}}
        words = {"description": ERROR_WORDS[status] + " (a page in words)", "content": content}
        return {**words, "headers": RETRY_AFTER} if status == 429 else words
    return {"$ref": "#/components/responses/" + _error_name(status)}


def _error_name(status: int) -> str:
    return f"Error{status}"


_SERVED: dict[str, Any] = {}


def served_document(route_table: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The document, built once a container."""
    if not _SERVED:
        _SERVED.update(document(route_table))
    return _SERVED
