"""Builds clients and services on first use and keeps them for the container's life.

Nothing here runs at import: creating the first boto3 client loads botocore's endpoint data
(~80 ms), which a cold start should only pay when a request needs AWS.
"""

from __future__ import annotations

import functools
import logging
from typing import TYPE_CHECKING, Any

from chalicelib.access import Authenticator
from chalicelib.config import Settings
from chalicelib.services import ReservationDesk, RestaurantAdmin
from chalicelib.tokens import ManageTokens

if TYPE_CHECKING:
    from chalicelib.store_dynamodb import DynamoStore


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
    """A cached boto3 client; AWS_ENDPOINT_URL points them at the local emulator."""
    return _session().client(service)


@functools.cache
def store() -> DynamoStore:
    from chalicelib.store_dynamodb import DynamoStore

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


@functools.cache
def authenticator() -> Authenticator:
    return Authenticator(
        admin_token=admin_token,
        find_staff_token=store().find_staff_token,
        manage_token_digest=reservation_desk().manage_token_digest,
    )


def reset() -> None:
    """Forget every cached object (tests switch environments between cases)."""
    for cached in (
        settings,
        _session,
        client,
        store,
        admin_token,
        signing_key,
        restaurant_admin,
        reservation_desk,
        authenticator,
    ):
        cached.cache_clear()
