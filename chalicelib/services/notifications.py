"""The consumers' work: email staff about requests, email guests about decisions, and keep
each restaurant's daily totals. Idempotency on the event id is added where they are wired
(bootstrap), so these stay plain and testable."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.events import (
    BusinessEvent,
    Event,
    ReservationCancelled,
    ReservationDeclined,
    ReservationRequested,
    StaffSignInRequested,
)
from chalicelib.domain.reservations import DECLINED_BY_DEADLINE, HOLDS_COVERS
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import find_restaurant
from chalicelib.services.emails import (
    Email,
    guest_email,
    local_day,
    staff_cancellation_email,
    staff_expiry_email,
    staff_request_email,
    staff_sign_in_email,
)
from chalicelib.services.ports import (
    DailyTotalStore,
    Mailer,
    Metrics,
    NoMetrics,
    RestaurantStore,
    TimelineStep,
    TimelineStore,
)
from chalicelib.services.staff_sessions import SIGN_IN_LINK_LIFETIME
from chalicelib.web.links import StaffLinks, manage_url

SUMMARY_FIELDS = ("requested", "pending", "accepted", "declined", "cancelled", "covers_booked")
# How long the day-view link of a staff email signs its recipients in.
DAY_VIEW_LINK_LIFETIME = timedelta(days=3)
# Under the handlers' Powertools logger, so its lines are JSON with the correlation id.
_log = logging.getLogger("reservation-service.daily_summaries")


class StaffNotifier:
    def __init__(self, restaurants: RestaurantStore, links: StaffLinks, mailer: Mailer) -> None:
        self._restaurants = restaurants
        self._links = links
        self._mailer = mailer

    def notify(self, event: Event) -> dict[str, str]:
        """One email to every staff address of the restaurant: a new request (with its Accept
        and Decline links), a guest's cancellation, or a request declined because nobody
        answered it in time; or a sign-in link to the one address it was asked for. A staff
        cancellation or decline sends nothing (staff did it): the answer is then empty."""
        if isinstance(event, StaffSignInRequested):
            return self._sign_in_link(event)
        state = event.reservation
        if isinstance(event, ReservationCancelled) and state.cancelled_by != "guest":
            return {}
        if isinstance(event, ReservationDeclined) and state.declined_by != DECLINED_BY_DEADLINE:
            return {}
        if not isinstance(event, ReservationRequested | ReservationCancelled | ReservationDeclined):
            raise ValueError(f"staff are not notified of {event.detail_type}")
        restaurant = find_restaurant(self._restaurants, state.restaurant_id)
        staff = tuple(str(address) for address in restaurant.staff_emails)
        day_view = self._links.day_view(
            restaurant.id, staff, local_day(state, restaurant), DAY_VIEW_LINK_LIFETIME
        )
        if isinstance(event, ReservationCancelled):
            email = staff_cancellation_email(event, restaurant, day_view)
        elif isinstance(event, ReservationDeclined):
            answer_by = state.answer_by or state.starts_at
            email = staff_expiry_email(event, restaurant, answer_by, day_view)
        else:
            accept, decline = self._links.answers(
                state.restaurant_id, state.id, datetime.fromisoformat(state.starts_at)
            )
            email = staff_request_email(event, restaurant, accept, decline, day_view)
        return sent(email, self._mailer.send(email))

    def _sign_in_link(self, event: StaffSignInRequested) -> dict[str, str]:
        restaurant = find_restaurant(self._restaurants, event.restaurant_id)
        listed = {str(address).lower() for address in restaurant.staff_emails}
        if event.email.lower() not in listed:
            return {}  # taken off the list since it asked: no link
        today = self._links.now().astimezone(restaurant.zone).date()
        url = self._links.day_view(restaurant.id, (event.email,), today, SIGN_IN_LINK_LIFETIME)
        minutes = int(SIGN_IN_LINK_LIFETIME.total_seconds() // 60)
        email = staff_sign_in_email(event, restaurant, url, minutes)
        return sent(email, self._mailer.send(email))


class GuestNotifier:
    def __init__(
        self,
        restaurants: RestaurantStore,
        manage_tokens: ManageTokens,
        base_url: str,
        mailer: Mailer,
    ) -> None:
        self._restaurants = restaurants
        self._tokens = manage_tokens
        self._base = base_url.rstrip("/")
        self._mailer = mailer

    def notify(self, event: BusinessEvent) -> dict[str, str]:
        """The guest's email about their request: received, confirmed, declined, cancelled."""
        state = event.reservation
        restaurant = find_restaurant(self._restaurants, state.restaurant_id)
        token = self._tokens.for_reservation(state.restaurant_id, state.id)
        link = manage_url(self._base, state.restaurant_id, state.id, token)
        email = guest_email(event, restaurant, link)
        return sent(email, self._mailer.send(email))


def sent(email: Email, message_id: str) -> dict[str, str]:
    """What a consumer did, for its log line and the reservation's timeline."""
    return {"message_id": message_id, "to": ", ".join(email.to), "subject": email.subject}


def summary_changes(event: BusinessEvent) -> dict[str, int]:
    """How one event moves a day's totals. Totals only add and subtract, so they come out exact
    whatever order events arrive in."""
    state = event.reservation
    changes: Counter[str] = Counter()
    if event.previous_status is None:
        changes["requested"] += 1
    else:
        changes[event.previous_status.value.lower()] -= 1
    changes[state.status.value.lower()] += 1
    was_held = event.previous_status in HOLDS_COVERS
    if state.status in HOLDS_COVERS and not was_held:
        changes["covers_booked"] += state.party_size
    if was_held and state.status not in HOLDS_COVERS:
        changes["covers_booked"] -= state.party_size
    return {name: delta for name, delta in changes.items() if delta}


class DailySummaries:
    """The daily totals, and the "event on the bus" step of each reservation event: this
    consumer receives every reservation event once (its applied-event markers), so the step is
    written here rather than by the stream relay, which is the one serial path of a shard."""

    def __init__(
        self,
        restaurants: RestaurantStore,
        totals: DailyTotalStore,
        metrics: Metrics | None = None,
        timeline: TimelineStore | None = None,
    ) -> None:
        self._restaurants = restaurants
        self._totals = totals
        self._metrics = metrics or NoMetrics()
        self._timeline = timeline

    def apply(self, event: BusinessEvent, on_bus_at: str | None = None) -> bool:
        """Count the event once; False when it was counted before (a redelivery). Applied
        events are counted as metrics too (`ReservationsRequested`, …) and written as a step
        on the reservation's timeline (`on_bus_at`: the bus's time on its envelope): exactly
        once each."""
        state = event.reservation
        day = datetime.fromisoformat(state.starts_at).date()
        applied = self._totals.apply_to_summary(
            state.restaurant_id, day, event.event_id, summary_changes(event)
        )
        if applied:
            self._metrics.count("Reservations" + event.detail_type.removeprefix("Reservation"))
            self._record(on_the_bus(event, on_bus_at))
        self._metrics.flush()
        return applied

    def _record(self, step: TimelineStep) -> None:
        """Best effort, as the emails' steps: the totals are counted; a retry would find the
        event applied and write nothing, so a failed write is logged, not raised."""
        if self._timeline is None:
            return
        try:
            self._timeline.add_steps([step])
        except Exception as error:
            _log.warning(
                "timeline step not written",
                extra={"event_id": step.step_id, "reservation_id": step.reservation_id,
                       "error": repr(error)},
            )  # fmt: skip

    def of(self, restaurant_id: str, day: date) -> dict[str, int | str]:
        find_restaurant(self._restaurants, restaurant_id)
        totals = self._totals.daily_summary(restaurant_id, day)
        return {"date": day.isoformat(), **{f: totals.get(f, 0) for f in SUMMARY_FIELDS}}


def on_the_bus(event: BusinessEvent, on_bus_at: str | None) -> TimelineStep:
    """A reservation event's step on its timeline, with the details the stream relay knows.

    Its time is the bus's (whole seconds), never before the change itself: so it sorts after
    the change and before or with the emails the event caused, whichever consumer ran first.
    Time and id come from the event, so writing it again overwrites the same item."""
    occurred = _fixed_width(event.occurred_at)
    at = max(_fixed_width(on_bus_at), occurred) if on_bus_at else occurred
    return TimelineStep(
        reservation_id=event.reservation.id,
        restaurant_id=event.reservation.restaurant_id,
        at=at,
        what="event on the bus",
        step_id=event.event_id,
        details={
            "event": event.detail_type,
            "event_id": event.event_id,
            "status": event.reservation.status.value,
            "previous_status": event.previous_status.value if event.previous_status else "",
            "correlation_id": event.correlation_id or "",
        },
    )


def _fixed_width(moment: str) -> str:
    """UTC with microseconds always written, so the timeline's times sort as text."""
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
