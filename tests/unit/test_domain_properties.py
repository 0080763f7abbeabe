"""Properties of the domain, over any sequence of requests, accepts, declines, cancels, capacity
changes and replays (Hypothesis stateful testing against the in-memory stores):

- seated covers never exceed capacity, and a request is refused exactly when it would;
- covers are released exactly once: the covers held equal a recount of the reservations;
- the status machine holds: every change it allows happens, every other is a 409;
- the daily totals equal a recount, whatever order the events arrive in and however often.

HYPOTHESIS_EXAMPLES sets the number of sequences (default 150; `make fuzz` runs more)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import hypothesis
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
)

from chalicelib.domain.booking_rules import occupied_cells
from chalicelib.domain.errors import IdempotencyKeyReused, InvalidTransition, SlotFull
from chalicelib.domain.events import BusinessEvent, event_for_change
from chalicelib.domain.reservations import Reservation, Status
from chalicelib.domain.restaurants import RestaurantSettings
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.notifications import SUMMARY_FIELDS, DailySummaries
from chalicelib.services.ports import Stores
from tests.builders import NOW, Clock, booking, local, next_weekday, restaurant_spec
from tests.fakes import InMemoryStores

EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "150"))
RESTAURANT = "chez-test"
DAY = next_weekday(NOW, 2)  # a Wednesday: open 19:00-22:30, last seating 21:00
TIMES = ("19:00", "19:15", "19:30", "20:00", "20:30", "21:00")
KEYS = ("key-a", "key-b", "key-c")
DINING = timedelta(minutes=90)
DAY_LONG = timedelta(days=1)
# The status machine as docs/api.md states it, written out here rather than read from the
# domain's TRANSITIONS, so that a change there is caught.
ALLOWED = {
    (Status.PENDING, Status.ACCEPTED),
    (Status.PENDING, Status.DECLINED),
    (Status.PENDING, Status.CANCELLED),
    (Status.ACCEPTED, Status.CANCELLED),
}
HOLDS_COVERS = {Status.PENDING, Status.ACCEPTED}  # likewise: the statuses whose covers count


@dataclass
class Booked:
    """What the model knows of a reservation."""

    starts_at: datetime
    party_size: int
    status: Status
    capacity_then: int  # the capacity its booking was checked against
    transitions: int = 0


class Reservations(RuleBasedStateMachine):
    """Drives the desk and the daily totals; keeps its own account to recount against."""

    reservation_ids = Bundle("reservation_ids")

    first_capacity = 6

    def __init__(self) -> None:
        super().__init__()
        self.capacity = self.first_capacity
        self.stores = self.make_stores()
        clock = Clock()
        self.admin = RestaurantAdmin(self.stores.restaurants, self.stores.staff_tokens, clock)
        self.admin.create(restaurant_spec(capacity=self.capacity, max_party_size=4))
        self.desk = ReservationDesk(
            self.stores.restaurants, self.stores.reservations, ManageTokens("k" * 32), clock
        )
        self.summaries = DailySummaries(self.stores.restaurants, self.stores.totals)
        self.booked: dict[str, Booked] = {}
        self.keys: dict[str, tuple[str, int, str]] = {}  # key -> (time, party, reservation id)
        self.undelivered: set[str] = set()
        self.delivered: set[str] = set()
        self.made: dict[str, BusinessEvent] = {}

    def make_stores(self) -> Stores:
        """The stores the services run on: in memory here (`tests/fakes.py`)."""
        return InMemoryStores().ports()

    # -- the model's recounts -------------------------------------------------------------

    def seated_at(self, instant: datetime) -> int:
        return sum(
            b.party_size
            for b in self.booked.values()
            if b.status in HOLDS_COVERS and b.starts_at <= instant < b.starts_at + DINING
        )

    def would_overflow(self, starts_at: datetime, party_size: int) -> bool:
        """Whether a party at `starts_at` would ever sit with more than capacity seated."""
        instants = {starts_at} | {
            b.starts_at
            for b in self.booked.values()
            if b.status in HOLDS_COVERS and starts_at <= b.starts_at < starts_at + DINING
        }
        return any(self.seated_at(t) + party_size > self.capacity for t in instants)

    def event(self, before: Reservation | None, after: Reservation) -> None:
        """The event the stream relay would publish for this change, on its way."""
        made = event_for_change(before, after)
        assert made is not None
        self.undelivered.add(made.event_id)
        self.made[made.event_id] = made

    # -- rules ------------------------------------------------------------------------------

    @rule(
        target=reservation_ids,
        hhmm=st.sampled_from(TIMES),
        party_size=st.integers(1, 4),
        key=st.none() | st.sampled_from(KEYS),
    )
    def request(self, hhmm: str, party_size: int, key: str | None) -> object:
        starts_at = local(DAY, hhmm)
        command = booking(starts_at, party_size)
        earlier = self.keys.get(key) if key else None
        full = self.would_overflow(starts_at, party_size)
        try:
            made = self.desk.request(RESTAURANT, command, key)
        except IdempotencyKeyReused:
            assert earlier is not None and earlier[:2] != (hhmm, party_size)
            return multiple()
        except SlotFull:
            assert earlier is None and full, "refused although there was room"
            return multiple()
        if earlier is not None:  # a replay: the same reservation, nothing new held
            assert made.replayed and made.reservation.id == earlier[2]
            assert earlier[:2] == (hhmm, party_size)
            return multiple()
        assert not made.replayed and not full, "accepted although it did not fit"
        reservation = made.reservation
        self.booked[reservation.id] = Booked(starts_at, party_size, Status.PENDING, self.capacity)
        if key:
            self.keys[key] = (hhmm, party_size, reservation.id)
        self.event(None, reservation)
        return reservation.id

    @rule(
        reservation_id=reservation_ids,
        to=st.sampled_from([Status.ACCEPTED, Status.DECLINED, Status.CANCELLED]),
        by=st.sampled_from(["guest", "staff"]),
    )
    def move(self, reservation_id: str, to: Status, by: str) -> None:
        known = self.booked[reservation_id]
        before = self.desk.get(RESTAURANT, reservation_id)
        try:
            if to is Status.ACCEPTED:
                after = self.desk.accept(RESTAURANT, reservation_id)
            elif to is Status.DECLINED:
                after = self.desk.decline(RESTAURANT, reservation_id, "full tonight")
            else:
                after = self.desk.cancel(RESTAURANT, reservation_id, by=by)
        except InvalidTransition:
            assert (known.status, to) not in ALLOWED, f"{known.status} -> {to} was refused"
            return
        assert (known.status, to) in ALLOWED, f"{known.status} -> {to} was allowed"
        assert after.status is to and after.version == before.version + 1
        known.status = to
        known.transitions += 1
        self.event(before, after)

    @rule(capacity=st.integers(4, 10))
    def change_capacity(self, capacity: int) -> None:
        spec = restaurant_spec(capacity=capacity, max_party_size=4)
        settings = RestaurantSettings.model_validate(spec.model_dump(exclude={"id"}))
        self.admin.replace(RESTAURANT, settings)
        self.capacity = capacity

    @precondition(lambda self: bool(self.undelivered))
    @rule(data=st.data())
    def deliver(self, data: st.DataObject) -> None:
        """An event reaches the totals, in any order."""
        event_id = data.draw(st.sampled_from(sorted(self.undelivered)))
        assert self.summaries.apply(self.made[event_id]), "a first delivery was not counted"
        self.undelivered.discard(event_id)
        self.delivered.add(event_id)

    @precondition(lambda self: bool(self.delivered))
    @rule(data=st.data())
    def redeliver(self, data: st.DataObject) -> None:
        """At-least-once delivery: an event again changes nothing."""
        event_id = data.draw(st.sampled_from(sorted(self.delivered)))
        before = self.summaries.of(RESTAURANT, DAY)
        assert not self.summaries.apply(self.made[event_id])
        assert self.summaries.of(RESTAURANT, DAY) == before

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def seated_covers_never_exceed_capacity(self) -> None:
        """At every seating's first instant (where the most sit at once), at most the capacity
        those seated were booked under: lowering it later cancels nobody."""
        holding = [b for b in self.booked.values() if b.status in HOLDS_COVERS]
        for b in holding:
            seated = [o for o in holding if o.starts_at <= b.starts_at < o.starts_at + DINING]
            assert self.seated_at(b.starts_at) <= max(o.capacity_then for o in seated)

    @invariant()
    def covers_held_equal_a_recount(self) -> None:
        """Released exactly once: never twice (below the recount), never forgotten (above)."""
        expected: dict[datetime, int] = {}
        for b in self.booked.values():
            if b.status in HOLDS_COVERS:
                for cell in occupied_cells(b.starts_at, int(DINING.total_seconds() // 60)):
                    expected[cell] = expected.get(cell, 0) + b.party_size
        day_start = local(DAY, "00:00")
        held = self.stores.reservations.covers_held(RESTAURANT, day_start, day_start + DAY_LONG)
        assert {c: n for c, n in held.items() if n} == expected

    @invariant()
    def statuses_and_versions_are_the_models(self) -> None:
        for reservation_id, known in self.booked.items():
            stored = self.desk.get(RESTAURANT, reservation_id)
            assert stored.status is known.status
            assert stored.version == 1 + known.transitions

    @invariant()
    def daily_totals_equal_a_recount(self) -> None:
        if self.undelivered:
            return  # events on their way: totals catch up once they arrive
        recount = dict.fromkeys(SUMMARY_FIELDS, 0)
        recount["requested"] = len(self.booked)
        for b in self.booked.values():
            recount[b.status.value.lower()] += 1
            if b.status in HOLDS_COVERS:
                recount["covers_booked"] += b.party_size
        summary = self.summaries.of(RESTAURANT, DAY)
        assert {name: summary[name] for name in SUMMARY_FIELDS} == recount

    def teardown(self) -> None:
        """Every event delivered at last: the totals are exact."""
        for event_id in sorted(self.undelivered):
            self.summaries.apply(self.made[event_id])
        self.undelivered = set()
        self.daily_totals_equal_a_recount()


Reservations.TestCase.settings = hypothesis.settings(
    max_examples=EXAMPLES,
    stateful_step_count=40,
    deadline=None,
    derandomize="HYPOTHESIS_EXAMPLES" not in os.environ,
    database=None,  # nothing written to the working copy
)
test_reservations_keep_their_invariants = Reservations.TestCase
