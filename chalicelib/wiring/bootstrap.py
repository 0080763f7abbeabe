"""Builds clients and services on first use and keeps them for the container's life.

One `Wiring` object holds them all; `wiring()` builds it lazily and `reset()` drops it whole
(tests switch environments between cases), so nothing needs a list of caches to clear.
Nothing here runs at import: creating the first boto3 client loads botocore's endpoint data
(~80 ms), which a cold start should only pay when a request needs AWS.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from chalicelib.domain.errors import DomainError
from chalicelib.domain.events import event_from_bus, staff_event_from_bus
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.services.ports import Mailer, Stores
from chalicelib.web.access import Authenticator
from chalicelib.wiring.config import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.consumers import OncePerEvent
    from chalicelib.adapters.mailer import SesMailer
    from chalicelib.adapters.metrics import EmfMetrics
    from chalicelib.adapters.publisher import StreamRelay
    from chalicelib.domain.events import BusinessEvent, Event
    from chalicelib.services.expiry import UnansweredRequests
    from chalicelib.services.guest_details import GuestDetails
    from chalicelib.services.notifications import DailySummaries
    from chalicelib.services.staff_sessions import StaffSessions
    from chalicelib.services.timeline import Timelines
    from chalicelib.web.links import StaffLinks, StaffLinkSigner
    from chalicelib.web.session_cookie import SessionCookie
    from chalicelib.web.staff_pages import StaffDayPages

E = TypeVar("E", bound="Event")
_KEPT = frozenset({"settings", "session", "_clients"})
# An SQS batch handler: (Lambda event, context) -> partial batch response.
QueueHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class Wiring:
    """Every client and service of one container, each built on first use and then kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._clients: dict[str, Any] = {}

    # -- AWS -------------------------------------------------------------------------------

    @cached_property
    def session(self) -> Any:
        import boto3

        # `chalice local` logs the root logger at INFO; botocore's per-client chatter is noise.
        logging.getLogger("botocore").setLevel(logging.WARNING)
        return boto3.session.Session()

    def client(self, service: str) -> Any:
        """A kept boto3 client (the local stage's AWS profile points them at the emulator).

        Standard retry mode: throttling and transient errors are retried with backoff, 3
        attempts."""
        if service not in self._clients:
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
            )
            self._clients[service] = self.session.client(service, config=config)
        return self._clients[service]

    def forget_clients(self) -> None:
        """Make clients, and everything built on them, afresh from now on (benchmarks count
        the calls of new clients); the settings and the session stay."""
        self._clients.clear()
        for built in [name for name in vars(self) if name not in _KEPT]:
            del self.__dict__[built]

    @cached_property
    def stores(self) -> Stores:
        from chalicelib.adapters.dynamodb import dynamo_stores

        return dynamo_stores(self.client("dynamodb"), self.settings.table_name)

    @cached_property
    def secrets(self) -> Secrets:
        return Secrets(self.settings, self.client)

    # -- the API ---------------------------------------------------------------------------

    @cached_property
    def restaurant_admin(self) -> RestaurantAdmin:
        return RestaurantAdmin(self.stores.restaurants, self.stores.staff_tokens)

    @cached_property
    def reservation_desk(self) -> ReservationDesk:
        return ReservationDesk(
            self.stores.restaurants,
            self.stores.reservations,
            ManageTokens(self.secrets.signing_key),
        )

    @cached_property
    def unanswered_requests(self) -> UnansweredRequests:
        from chalicelib.services.expiry import UnansweredRequests

        return UnansweredRequests(self.stores.reservations)

    @cached_property
    def guest_details(self) -> GuestDetails:
        from chalicelib.services.guest_details import GuestDetails

        retention = timedelta(days=self.settings.guest_data_retention_days)
        return GuestDetails(self.stores.reservations, self.stores.timeline, retention)

    @cached_property
    def timelines(self) -> Timelines:
        from chalicelib.services.timeline import Timelines

        return Timelines(self.stores.reservations, self.stores.timeline)

    def restaurant_name(self, restaurant_id: str) -> str | None:
        """The restaurant's name for a page, or None when there is no such restaurant."""
        try:
            return self.restaurant_admin.get(restaurant_id).name
        except DomainError:
            return None

    @cached_property
    def authenticator(self) -> Authenticator:
        return Authenticator(
            admin=self.secrets,
            staff_tokens=self.stores.staff_tokens,
            manage_tokens=self.reservation_desk,
            staff_links=self.staff_link_signer,
            sessions=self.staff_sessions,
        )

    @cached_property
    def staff_sessions(self) -> StaffSessions:
        from chalicelib.services.staff_sessions import StaffSessions

        return StaffSessions(
            self.stores.sessions,
            self.stores.restaurants,
            self.stores.staff_tokens,
        )

    @cached_property
    def session_cookie(self) -> SessionCookie:
        """Secure (and `__Host-`) wherever the API is served over HTTPS: every stage but local."""
        from chalicelib.web.session_cookie import SessionCookie

        return SessionCookie(secure=self._public_base_url.startswith("https://"))

    @cached_property
    def staff_day_pages(self) -> StaffDayPages:
        from chalicelib.web.staff_pages import StaffDayPages

        return StaffDayPages(
            self.reservation_desk,
            self.restaurant_admin,
            self.daily_summaries,
            self.staff_sessions,
            self.session_cookie,
        )

    @property
    def _public_base_url(self) -> str:
        url = self.settings.public_base_url
        if not url:
            raise RuntimeError("PUBLIC_BASE_URL is not configured: email links need the API's URL")
        return url

    @cached_property
    def staff_link_signer(self) -> StaffLinkSigner:
        from chalicelib.services.booking import utc_now
        from chalicelib.web.links import StaffLinkSigner

        return StaffLinkSigner(self.secrets.signing_key, utc_now)

    @cached_property
    def staff_links(self) -> StaffLinks:
        from chalicelib.web.links import StaffLinks

        return StaffLinks(self.staff_link_signer, self._public_base_url)

    # -- event handlers --------------------------------------------------------------------

    @cached_property
    def stream_relay(self) -> StreamRelay:
        from aws_lambda_powertools import Logger

        from chalicelib.adapters.publisher import EventPublisher, StreamRelay, quarantine_to_queue

        def failure_queue_url() -> str:
            name = self.settings.stream_failure_queue
            return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

        return StreamRelay(
            EventPublisher(self.client("events"), self.settings.event_bus_name),
            quarantine_to_queue(self.client("sqs"), functools.cache(failure_queue_url)),
            Logger(service="reservation-service", child=True),
            self.stores.timeline,
            self.metrics,
        )

    @cached_property
    def metrics(self) -> EmfMetrics:
        from chalicelib.adapters.metrics import EmfMetrics

        return EmfMetrics()

    @cached_property
    def mailer(self) -> SesMailer:
        from chalicelib.adapters.mailer import SesMailer

        return SesMailer(self.client("ses"), self.settings.sender_email)

    @cached_property
    def _staff_mailer(self) -> Mailer:
        """Staff emails keep to their share of the account's SES rate (when the stage states
        it): the queue mapping's concurrency and this pace come from the same StaffSending."""
        rate = self.settings.ses_max_send_rate
        if rate is None:
            return self.mailer
        from chalicelib.adapters.mailer import PacedMailer
        from chalicelib.wiring.event_sources import StaffSending

        return PacedMailer(self.mailer, StaffSending(rate).seconds_between_emails)

    @cached_property
    def staff_notification(self) -> OncePerEvent[Event]:
        from chalicelib.services.notifications import StaffNotifier

        notifier = StaffNotifier(self.stores.restaurants, self.staff_links, self._staff_mailer)
        return self._once_per_event("notify_staff", notifier.notify, staff_event_from_bus)

    @cached_property
    def staff_notification_batch(self) -> QueueHandler:
        from chalicelib.adapters.consumers import queue_batch

        return queue_batch(self.staff_notification)

    @cached_property
    def guest_notification(self) -> OncePerEvent[BusinessEvent]:
        from chalicelib.services.notifications import GuestNotifier

        notifier = GuestNotifier(
            self.stores.restaurants,
            ManageTokens(self.secrets.signing_key),
            self._public_base_url,
            self.mailer,
        )
        return self._once_per_event("notify_guest", notifier.notify, event_from_bus)

    def _once_per_event(
        self,
        consumer: str,
        work: Callable[[E], dict[str, str]],
        read: Callable[[dict[str, Any]], E],
    ) -> OncePerEvent[E]:
        """`work` run once per event id (`read` from the bus's envelope), its emails on the
        timeline and in the metrics."""
        from chalicelib.adapters.consumers import OncePerEvent

        return OncePerEvent(
            consumer,
            work,
            read,
            self.client("dynamodb"),
            self.settings.table_name,
            self.stores.timeline,
            self.metrics,
        )

    @cached_property
    def daily_summaries(self) -> DailySummaries:
        from chalicelib.services.notifications import DailySummaries

        return DailySummaries(
            self.stores.restaurants, self.stores.totals, self.metrics, self.stores.timeline
        )


class Secrets:
    """The stage's secrets: given directly (tests), or read from SSM SecureString parameters
    once, on first use (AWS stages and the local emulator)."""

    def __init__(self, settings: Settings, client: Callable[[str], Any]) -> None:
        self._settings = settings
        self._client = client

    @cached_property
    def admin_token(self) -> str:
        s = self._settings
        return self._read(s.admin_token, s.admin_token_parameter, "ADMIN_TOKEN")

    @cached_property
    def signing_key(self) -> str:
        s = self._settings
        return self._read(s.signing_key, s.signing_key_parameter, "SIGNING_KEY")

    def _read(self, value: str | None, parameter: str | None, name: str) -> str:
        if value:
            return value
        if parameter:
            response = self._client("ssm").get_parameter(Name=parameter, WithDecryption=True)
            return str(response["Parameter"]["Value"])
        raise RuntimeError(f"{name} is not configured: set {name} or {name}_PARAMETER")


_current: Wiring | None = None


def wiring() -> Wiring:
    """This container's wiring, built on first use from the stage's environment."""
    global _current
    if _current is None:
        _current = Wiring(Settings.from_env())
    return _current


def reset() -> None:
    """Forget every client and service (tests switch environments between cases)."""
    global _current
    _current = None
