"""Restaurant reservations on AWS Chalice: every route and event handler is declared here;
each body translates and delegates to `chalicelib`."""

from __future__ import annotations

import os
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from chalice.app import (
    Chalice,
    CloudWatchEvent,
    DynamoDBEvent,
    Rate,
    Request,
    Response,
    SQSEvent,
)

from chalicelib.domain.reservations import DeclineReservation, RequestReservation
from chalicelib.domain.restaurants import NewRestaurant, RestaurantSettings
from chalicelib.services import correlation
from chalicelib.services.staff_sessions import SIGN_IN_LINK_LIFETIME
from chalicelib.web import routes
from chalicelib.web.access import Access
from chalicelib.web.api_models import (
    AvailabilityQuery,
    DaySheetQuery,
    DayViewQuery,
    IssueStaffToken,
    SummaryQuery,
)
from chalicelib.web.booking_pages import BookingPages
from chalicelib.web.headers import secured
from chalicelib.web.http import Api, HttpError, uniform_error_body
from chalicelib.web.link_pages import GuestManagePages, StaffResponsePages
from chalicelib.web.pages import stylesheet_response
from chalicelib.web.routes import RESERVATION, RESTAURANT
from chalicelib.wiring import bootstrap
from chalicelib.wiring.config import local_server_problem, refuse_to_serve
from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    EXPIRY_SCHEDULE_MINUTES,
    GUEST_NOTIFICATIONS,
    RESERVATION_STREAM,
    RETENTION_SCHEDULE_HOURS,
    STAFF_NOTIFICATIONS,
)

if TYPE_CHECKING:  # imported by the schedules' first run, not the API's cold start
    from chalicelib.services.schedules import ScheduledRun

if problem := local_server_problem(sys.argv, os.environ):
    refuse_to_serve(problem)  # `chalice local` for a stage it cannot serve: say what to run
bootstrap.wiring()  # reads the settings: a stage missing a variable fails here, naming it

app = Chalice(app_name="reservations")
# Not "reservations": that is the name of Chalice's own app.log, and lines would print twice.
logger = Logger(service="reservation-service")
app.api.cors = True
api = Api(
    app,
    lambda: bootstrap.wiring().authenticator,
    lambda restaurant_id: bootstrap.wiring().restaurant_name(restaurant_id),
    lambda: bootstrap.wiring().session_cookie,
)

# Resource names resolved at import (Chalice reads decorator arguments when packaging); each
# stage sets them in .chalice/config.json.
TABLE_STREAM_ARN = os.environ.get("TABLE_STREAM_ARN", "arn:aws:dynamodb:::table/unset/stream/unset")
STAFF_NOTIFICATION_QUEUE = os.environ.get(
    "STAFF_NOTIFICATION_QUEUE", "reservations-local-staff-notifications"
)
FORM = ["application/x-www-form-urlencoded"]
CORRELATION_HEADER = "X-Correlation-Id"


@app.middleware("http")
def uniform_errors(event: Request, get_response: Any) -> Response:
    """Every error, even those Chalice writes itself, has the same JSON shape; nothing cached;
    the security headers on every response (`chalicelib/web/headers.py`); one structured log
    line per request, with the request's correlation id (the client's X-Correlation-Id, else
    API Gateway's request id), which the response repeats."""
    started = time.perf_counter()
    correlation_id = (
        correlation.accepted(event.headers.get(CORRELATION_HEADER))
        or event.context.get("requestId")
        or str(uuid.uuid4())
    )
    token = correlation.serve(correlation_id)
    logger.set_correlation_id(correlation_id)
    try:
        response = uniform_error_body(get_response(event))
    finally:
        correlation.done(token)
    secured(response, https=bootstrap.wiring().settings.served_over_https)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers[CORRELATION_HEADER] = correlation_id
    params = event.uri_params or {}
    log = logger.error if response.status_code >= 500 else logger.info
    log(
        "request",
        method=event.method,
        route=event.context.get("resourcePath"),
        status=response.status_code,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
        restaurant_id=params.get("restaurant_id"),
        reservation_id=params.get("reservation_id"),
        error_code=(response.body or {}).get("error", {}).get("code")
        if isinstance(response.body, dict)
        else None,
    )
    return response


# -- restaurants ----------------------------------------------------------------------------


@app.route("/restaurants", methods=["POST"])
@api.guard(Access.ADMIN)
def create_restaurant() -> Response:
    restaurant = bootstrap.wiring().restaurant_admin.create(api.body(NewRestaurant))
    location = routes.restaurant_path(restaurant.id)
    return Response(restaurant.admin_view(), status_code=201, headers={"Location": location})


@app.route(RESTAURANT, methods=["PUT"])
@api.guard(Access.ADMIN)
def replace_restaurant(restaurant_id: str) -> dict[str, Any]:
    settings = api.body(RestaurantSettings)
    return bootstrap.wiring().restaurant_admin.replace(restaurant_id, settings).admin_view()


@app.route(RESTAURANT, methods=["GET"])
@api.guard(Access.PUBLIC)
def restaurant_profile(restaurant_id: str) -> dict[str, Any]:
    return bootstrap.wiring().restaurant_admin.get(restaurant_id).public_profile()


@app.route(RESTAURANT + "/staff-tokens", methods=["POST"])
@api.guard(Access.ADMIN)
def issue_staff_token(restaurant_id: str) -> Response:
    label = api.body(IssueStaffToken).label
    issued = bootstrap.wiring().restaurant_admin.issue_staff_token(restaurant_id, label)
    return Response(issued.view(), status_code=201)


@app.route(RESTAURANT + "/staff-tokens", methods=["GET"])
@api.guard(Access.ADMIN)
def list_staff_tokens(restaurant_id: str) -> dict[str, Any]:
    tokens = bootstrap.wiring().restaurant_admin.staff_tokens(restaurant_id)
    return {"staff_tokens": [token.view() for token in tokens]}


@app.route(RESTAURANT + "/staff-tokens/{token_id}", methods=["DELETE"])
@api.guard(Access.ADMIN)
def revoke_staff_token(restaurant_id: str, token_id: str) -> Response:
    bootstrap.wiring().restaurant_admin.revoke_staff_token(restaurant_id, token_id)
    return Response(body="", status_code=204)


@app.route(RESTAURANT + "/staff-sessions", methods=["POST"])
@api.guard(Access.STAFF)
def staff_sign_in_link(restaurant_id: str) -> Response:
    """A short-lived link that signs a browser in to the day view for a staff token's holder
    (a tablet at the host stand, say); revoking the token ends the sessions it started."""
    token_id = api.principal.token_id
    if token_id is None:
        raise HttpError(403, "forbidden", "sign-in links are made for staff tokens, not admin")
    desk, links = bootstrap.wiring().reservation_desk, bootstrap.wiring().staff_links
    today = desk.today(restaurant_id)
    url = links.day_view_for_token(restaurant_id, token_id, today, SIGN_IN_LINK_LIFETIME)
    # The link is the credential: short-lived, and only ever shown to the token's holder.
    return Response({"sign_in_url": url}, status_code=201)


@app.route(RESTAURANT + "/availability", methods=["GET"])
@api.guard(Access.PUBLIC)
def availability(restaurant_id: str) -> dict[str, Any]:
    query = api.query(AvailabilityQuery)
    desk = bootstrap.wiring().reservation_desk
    return desk.availability(restaurant_id, query.date, query.party_size).view()


# -- reservations ---------------------------------------------------------------------------


@app.route(RESTAURANT + "/reservations", methods=["POST"])
@api.guard(Access.PUBLIC)
def request_reservation(restaurant_id: str) -> Response:
    command = api.body(RequestReservation)
    booking = bootstrap.wiring().reservation_desk.request(
        restaurant_id, command, api.header("idempotency-key"), api.client_address()
    )
    headers: dict[str, str | list[str]] = {
        "Location": routes.reservation_path(RESERVATION, restaurant_id, booking.reservation.id)
    }
    if booking.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(booking.view(), status_code=201, headers=headers)


@app.route(RESTAURANT + "/reservations", methods=["GET"])
@api.guard(Access.STAFF)
def day_sheet(restaurant_id: str) -> dict[str, Any]:
    query = api.query(DaySheetQuery)
    sheet = bootstrap.wiring().reservation_desk.day_sheet(restaurant_id, query.date, query.status)
    return {"date": query.date.isoformat(), "reservations": [r.public() for r in sheet]}


@app.route(RESERVATION, methods=["GET"])
@api.guard(Access.GUEST_OR_STAFF)
def get_reservation(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    return bootstrap.wiring().reservation_desk.get(restaurant_id, reservation_id).public()


@app.route(RESERVATION + "/cancel", methods=["POST"])
@api.guard(Access.GUEST_OR_STAFF)
def cancel_reservation(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    desk = bootstrap.wiring().reservation_desk
    return desk.cancel(restaurant_id, reservation_id, by=api.principal.actor).public()


@app.route(RESERVATION + "/guest", methods=["DELETE"])
@api.guard(Access.GUEST_OR_STAFF)
def remove_guest_details(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    """The guest's name, email, phone and notes removed, once the reservation is over (after
    its seating, or cancelled or declined); the counts stay. Done already: the same answer."""
    details = bootstrap.wiring().guest_details
    return details.remove(restaurant_id, reservation_id, by=api.principal.actor).public()


@app.route(RESERVATION + "/accept", methods=["POST"])
@api.guard(Access.STAFF)
def accept_reservation(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    return bootstrap.wiring().reservation_desk.accept(restaurant_id, reservation_id).public()


@app.route(RESERVATION + "/decline", methods=["POST"])
@api.guard(Access.STAFF)
def decline_reservation(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    reason = api.body(DeclineReservation, optional=True).reason
    return (
        bootstrap.wiring().reservation_desk.decline(restaurant_id, reservation_id, reason).public()
    )


@app.route(RESERVATION + "/timeline", methods=["GET"])
@api.guard(Access.STAFF)
def reservation_timeline(restaurant_id: str, reservation_id: str) -> dict[str, Any]:
    """What happened to a reservation and what was sent about it, oldest first."""
    return bootstrap.wiring().timelines.of(restaurant_id, reservation_id).view()


@app.route(RESTAURANT + "/summary", methods=["GET"])
@api.guard(Access.STAFF)
def daily_summary(restaurant_id: str) -> dict[str, Any]:
    return bootstrap.wiring().daily_summaries.of(restaurant_id, api.query(SummaryQuery).date)


# -- pages behind email links ---------------------------------------------------------------


@app.route(routes.RESPOND, methods=["GET"])
@api.guard(Access.STAFF_LINK, html=True)
def staff_response_page(restaurant_id: str, reservation_id: str) -> Response:
    pages = StaffResponsePages(
        bootstrap.wiring().reservation_desk, bootstrap.wiring().restaurant_admin
    )
    return pages.show(restaurant_id, reservation_id, api.principal.link_action or "")


@app.route(routes.RESPOND, methods=["POST"], content_types=FORM)
@api.guard(Access.STAFF_LINK, html=True)
def staff_response(restaurant_id: str, reservation_id: str) -> Response:
    pages = StaffResponsePages(
        bootstrap.wiring().reservation_desk, bootstrap.wiring().restaurant_admin
    )
    reason = api.form().get("reason")
    return pages.act(restaurant_id, reservation_id, api.principal.link_action or "", reason)


@app.route(routes.MANAGE, methods=["GET"])
@api.guard(Access.GUEST_OR_STAFF, html=True)
def manage_page(restaurant_id: str, reservation_id: str) -> Response:
    wiring = bootstrap.wiring()
    pages = GuestManagePages(wiring.reservation_desk, wiring.restaurant_admin, wiring.guest_details)
    step, token = api.query_param(routes.CANCEL_STEP), api.query_param(routes.MANAGE_TOKEN)
    return pages.show(restaurant_id, reservation_id, step=step, token=token)


@app.route(routes.MANAGE, methods=["POST"], content_types=FORM)
@api.guard(Access.GUEST_OR_STAFF, html=True)
def manage_answer(restaurant_id: str, reservation_id: str) -> Response:
    """The manage page's form: cancel, or (once it is over) remove the guest's details."""
    wiring = bootstrap.wiring()
    pages = GuestManagePages(wiring.reservation_desk, wiring.restaurant_admin, wiring.guest_details)
    intent = api.form().get(routes.MANAGE_INTENT)
    return pages.answer(restaurant_id, reservation_id, intent, by=api.principal.actor)


# -- guest pages ----------------------------------------------------------------------------


@app.route(routes.BOOK, methods=["GET"])
@api.guard(Access.PUBLIC, html=True)
def booking_page(restaurant_id: str) -> Response:
    pages = BookingPages(bootstrap.wiring().reservation_desk, bootstrap.wiring().restaurant_admin)
    return pages.show(restaurant_id, api.query_params())


@app.route(routes.BOOK, methods=["POST"], content_types=FORM)
@api.guard(Access.PUBLIC, html=True)
def booking_request(restaurant_id: str) -> Response:
    """The booking form sent: one request per form (its hidden Idempotency-Key)."""
    pages = BookingPages(bootstrap.wiring().reservation_desk, bootstrap.wiring().restaurant_admin)
    return pages.book(restaurant_id, api.form(), api.client_address())


@app.route(routes.STATIC, methods=["GET"])
@api.guard(Access.PUBLIC)
def static_asset(asset: str) -> Response:
    """The pages' stylesheet, cached by its content hash."""
    return stylesheet_response(asset, api.header("if-none-match"))


# -- the staff day view ---------------------------------------------------------------------


@app.route(routes.STAFF_DAY, methods=["GET"])
@api.guard(Access.STAFF_SESSION, html=True)
def staff_day(restaurant_id: str) -> Response:
    query = api.query(DayViewQuery)
    session = api.principal.session
    assert session is not None  # Access.STAFF_SESSION
    pages = bootstrap.wiring().staff_day_pages
    return pages.day(restaurant_id, session, query.date, query.notice)


@app.route(routes.STAFF_DAY, methods=["POST"], content_types=FORM)
@api.guard(Access.STAFF_SESSION, html=True)
def staff_day_answer(restaurant_id: str) -> Response:
    return bootstrap.wiring().staff_day_pages.act(restaurant_id, api.form())


@app.route(routes.STAFF_SIGN_IN, methods=["GET"])
@api.guard(Access.PUBLIC, html=True)
def staff_sign_in_page(restaurant_id: str) -> Response:
    has_link = api.query_param(routes.LINK_SIGNATURE) is not None
    return bootstrap.wiring().staff_day_pages.sign_in_page(restaurant_id, has_link)


@app.route(routes.STAFF_SIGN_IN, methods=["POST"], content_types=FORM)
@api.guard(Access.STAFF_SIGN_IN, html=True)
def staff_sign_in(restaurant_id: str) -> Response:
    """A sign-in link's button pressed: the session starts if what the link was sent to is
    still on the restaurant's staff list."""
    link = api.principal.sign_in
    assert link is not None  # Access.STAFF_SIGN_IN
    return bootstrap.wiring().staff_day_pages.sign_in(restaurant_id, link)


@app.route(routes.STAFF_SIGN_IN_LINK, methods=["POST"], content_types=FORM)
@api.guard(Access.PUBLIC, html=True)
def staff_sign_in_link_request(restaurant_id: str) -> Response:
    """The sign-in page's form: a link by email for a listed staff address; the same answer
    whether or not the address is listed."""
    return bootstrap.wiring().staff_day_pages.request_link(restaurant_id, api.form())


@app.route(routes.STAFF_SIGN_OUT, methods=["POST"], content_types=FORM)
@api.guard(Access.STAFF_SESSION, html=True)
def staff_sign_out(restaurant_id: str) -> Response:
    return bootstrap.wiring().staff_day_pages.sign_out(api.session_secret())


@app.route("/openapi.json", methods=["GET"])
@api.guard(Access.PUBLIC)
def openapi_document() -> dict[str, Any]:
    """The API's contract (OpenAPI 3.1), built from this route table on first use."""
    from chalicelib.web.openapi import served_document

    return served_document(app.routes)


# -- event handlers -------------------------------------------------------------------------


@app.on_dynamodb_record(
    stream_arn=TABLE_STREAM_ARN,
    batch_size=RESERVATION_STREAM.batch_size,
    starting_position=RESERVATION_STREAM.starting_position,
    maximum_batching_window_in_seconds=RESERVATION_STREAM.batching_window_seconds,
)
def publish_reservation_events(event: DynamoDBEvent) -> dict[str, Any]:
    """Stream -> business events on the bus, with a partial batch response."""
    return bootstrap.wiring().stream_relay.handle(event.to_dict()["Records"])


@app.on_sqs_message(
    queue=STAFF_NOTIFICATION_QUEUE,
    batch_size=STAFF_NOTIFICATIONS.batch_size,
    maximum_batching_window_in_seconds=STAFF_NOTIFICATIONS.batching_window_seconds,
)
def notify_staff(event: SQSEvent) -> dict[str, Any]:
    """Requested, cancelled by the guest, or declined unanswered (via the staff queue) -> one
    email to the restaurant's staff."""
    response: dict[str, Any] = bootstrap.wiring().staff_notification_batch(
        event.to_dict(), event.context
    )
    return response


@app.on_cw_event(GUEST_NOTIFICATIONS.pattern)
def notify_guest(event: CloudWatchEvent) -> dict[str, str]:
    """Requested, accepted, declined or cancelled -> an email to the guest."""
    return bootstrap.wiring().guest_notification(event.to_dict(), event.context)


@app.on_cw_event(DAILY_SUMMARY.pattern)
def update_daily_summary(event: CloudWatchEvent) -> dict[str, bool]:
    """Every reservation event -> the restaurant's totals for that day, counted once, and the
    event's step on the reservation's timeline (at the bus's time)."""
    from chalicelib.domain.events import event_from_bus

    envelope = event.to_dict()
    summaries = bootstrap.wiring().daily_summaries
    return {"applied": summaries.apply(event_from_bus(envelope), envelope.get("time"))}


@app.schedule(Rate(EXPIRY_SCHEDULE_MINUTES, unit=Rate.MINUTES))
def expire_unanswered_requests(event: CloudWatchEvent) -> dict[str, int | float]:
    """Requests still PENDING at their answer deadline -> declined "no answer in time" (the
    stream then tells the guest and staff, and the covers are released)."""
    return _logged("unanswered requests declined", bootstrap.wiring().unanswered_requests.expire())


@app.schedule(Rate(RETENTION_SCHEDULE_HOURS, unit=Rate.HOURS))
def remove_old_guest_details(event: CloudWatchEvent) -> dict[str, int | float]:
    """Reservations seated longer ago than the retention period (GUEST_DATA_RETENTION_DAYS)
    -> their guest's name, email, phone and notes removed; the counts stay."""
    return _logged("old guest details removed", bootstrap.wiring().guest_details.remove_expired())


def _logged(what: str, run: ScheduledRun) -> dict[str, int | float]:
    """A scheduled run's counts, as it answers them; logged when it found anything to do."""
    if run.found_work:
        logger.info(what, extra=run.view())
    return run.view()
