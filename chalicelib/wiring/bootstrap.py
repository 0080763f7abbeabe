"""Builds clients and services on first use and keeps them for the container's life.

Nothing here runs at import: creating the first boto3 client loads botocore's endpoint data
(~80 ms), which a cold start should only pay when a request needs AWS.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import DomainError
from chalicelib.domain.tokens import ManageTokens
from chalicelib.services.booking import ReservationDesk, RestaurantAdmin
from chalicelib.web.access import Authenticator
from chalicelib.wiring.config import Settings

if TYPE_CHECKING:
    from chalicelib.adapters.consumers import OncePerEvent
    from chalicelib.adapters.dynamodb import DynamoStore
    from chalicelib.adapters.publisher import StreamRelay
    from chalicelib.services.notifications import DailySummaries
    from chalicelib.web.links import StaffLinks


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def _session() -> Any:
    import boto3

    # `chalice local` logs the root logger at INFO; botocore's per-client chatter is noise.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    return boto3.session.Session()


@functools.cache
def client(service: str) -> Any:
    """A cached boto3 client (the local stage's AWS profile points them at the emulator).

    Standard retry mode: throttling and transient errors are retried with backoff, 3 attempts.
    """
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=10
    )
    return _session().client(service, config=config)


@functools.cache
def store() -> DynamoStore:
    from chalicelib.adapters.dynamodb import DynamoStore

    return DynamoStore(client("dynamodb"), settings().table_name)


def _secret(value: str | None, parameter: str | None, name: str) -> str:
    if value:
        return value
    if parameter:
        response = client("ssm").get_parameter(Name=parameter, WithDecryption=True)
        return str(response["Parameter"]["Value"])
    raise RuntimeError(f"{name} is not configured: set {name} or {name}_PARAMETER")


@functools.cache
def admin_token() -> str:
    s = settings()
    return _secret(s.admin_token, s.admin_token_parameter, "ADMIN_TOKEN")


@functools.cache
def signing_key() -> str:
    s = settings()
    return _secret(s.signing_key, s.signing_key_parameter, "SIGNING_KEY")


@functools.cache
def restaurant_admin() -> RestaurantAdmin:
    return RestaurantAdmin(store())


@functools.cache
def reservation_desk() -> ReservationDesk:
    return ReservationDesk(store(), ManageTokens(signing_key()))


def restaurant_name(restaurant_id: str) -> str | None:
    """The restaurant's name for a page, or None when there is no such restaurant."""
    try:
        return restaurant_admin().get(restaurant_id).name
    except DomainError:
        return None


@functools.cache
def authenticator() -> Authenticator:
    return Authenticator(
        admin_token=admin_token,
        find_staff_token=store().find_staff_token,
        manage_token_digest=reservation_desk().manage_token_digest,
        verify_staff_link=lambda *link: staff_links().verify(*link),
    )


def _public_base_url() -> str:
    url = settings().public_base_url
    if not url:
        raise RuntimeError("PUBLIC_BASE_URL is not configured: email links need the API's URL")
    return url


@functools.cache
def staff_links() -> StaffLinks:
    from chalicelib.services.booking import utc_now
    from chalicelib.web.links import StaffLinks

    return StaffLinks(signing_key(), _public_base_url(), utc_now)


@functools.cache
def stream_relay() -> StreamRelay:
    from aws_lambda_powertools import Logger

    from chalicelib.adapters.publisher import EventPublisher, StreamRelay, quarantine_to_queue

    def failure_queue_url() -> str:
        name = settings().stream_failure_queue
        return str(client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    return StreamRelay(
        EventPublisher(client("events"), settings().event_bus_name),
        quarantine_to_queue(client("sqs"), functools.cache(failure_queue_url)),
        Logger(service="reservation-service", child=True),
    )


@functools.cache
def _mailer() -> Any:
    from chalicelib.adapters.mailer import SesMailer

    return SesMailer(client("ses"), settings().sender_email)


@functools.cache
def staff_notification() -> OncePerEvent:
    from chalicelib.adapters.consumers import OncePerEvent
    from chalicelib.services.notifications import StaffNotifier

    notifier = StaffNotifier(store(), staff_links(), _mailer())
    return OncePerEvent("notify_staff", notifier.notify, client("dynamodb"), settings().table_name)


@functools.cache
def staff_notification_batch() -> Any:
    from chalicelib.adapters.consumers import queue_batch

    return queue_batch(staff_notification())


@functools.cache
def guest_notification() -> OncePerEvent:
    from chalicelib.adapters.consumers import OncePerEvent
    from chalicelib.services.notifications import GuestNotifier

    notifier = GuestNotifier(store(), ManageTokens(signing_key()), _public_base_url(), _mailer())
    return OncePerEvent("notify_guest", notifier.notify, client("dynamodb"), settings().table_name)


@functools.cache
def daily_summaries() -> DailySummaries:
    from chalicelib.services.notifications import DailySummaries

    return DailySummaries(store())


_CACHED = (
    settings, _session, client, store, admin_token, signing_key, restaurant_admin,
    reservation_desk, authenticator, staff_links, stream_relay, _mailer, staff_notification,
    guest_notification, daily_summaries, staff_notification_batch,
)  # fmt: skip


def reset() -> None:
    """Forget every cached object (tests switch environments between cases)."""
    for cached in _CACHED:
        cached.cache_clear()
