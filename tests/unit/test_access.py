"""The one place that decides who may call what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from chalicelib.domain.errors import DomainError, Forbidden, NotFound, Unauthenticated
from chalicelib.domain.tokens import digest
from chalicelib.services.ports import StaffToken
from chalicelib.web.access import Access, Authenticator, Credentials

ADMIN = "the-admin-token"
STAFF_A = "stf_for_a"
STAFF_B = "stf_for_b"
MANAGE = "manage-token-of-r1"


def token(secret: str, restaurant_id: str) -> StaffToken:
    return StaffToken(
        "t-" + restaurant_id, restaurant_id, "desk", digest(secret), datetime.now(UTC)
    )


TOKENS = {digest(STAFF_A): token(STAFF_A, "a"), digest(STAFF_B): token(STAFF_B, "b")}
RESERVATIONS = {("a", "r1"): digest(MANAGE)}


@dataclass(frozen=True)
class Admin:
    admin_token: str


class StaffTokens:
    def find_staff_token(self, token_digest: str) -> StaffToken | None:
        return TOKENS.get(token_digest)


class ManageTokenDigests:
    def manage_token_digest(self, restaurant_id: str, reservation_id: str) -> str | None:
        return RESERVATIONS.get((restaurant_id, reservation_id))


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(Admin(ADMIN), StaffTokens(), ManageTokenDigests())


def bearer(secret: str) -> Credentials:
    return Credentials(authorization=f"Bearer {secret}")


def test_public_needs_nothing(auth: Authenticator) -> None:
    assert auth.authorize(Access.PUBLIC, Credentials()).role == "public"


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        (Credentials(), Unauthenticated),
        (bearer("wrong"), Unauthenticated),
        (bearer(STAFF_A), Forbidden),
        (Credentials(authorization="Basic abc"), Unauthenticated),
        (Credentials(authorization="Bearer "), Unauthenticated),
    ],
)
def test_admin_routes_need_the_admin_token(
    auth: Authenticator, credentials: Credentials, error: type[DomainError]
) -> None:
    with pytest.raises(error):
        auth.authorize(Access.ADMIN, credentials)


def test_admin_token_passes_admin_and_staff_routes(auth: Authenticator) -> None:
    assert auth.authorize(Access.ADMIN, bearer(ADMIN)).role == "admin"
    assert auth.authorize(Access.STAFF, bearer(ADMIN), "a").role == "admin"
    assert auth.authorize(Access.ADMIN, Credentials(authorization=f"bearer  {ADMIN} ")).role == (
        "admin"
    )


def test_an_unset_admin_token_matches_nothing() -> None:
    auth = Authenticator(Admin(""), StaffTokens(), ManageTokenDigests())
    with pytest.raises(Unauthenticated):
        auth.authorize(Access.ADMIN, Credentials(authorization="Bearer x"))


def test_staff_of_a_are_staff_of_a_only(auth: Authenticator) -> None:
    principal = auth.authorize(Access.STAFF, bearer(STAFF_A), "a")
    assert (principal.role, principal.restaurant_id) == ("staff", "a")
    with pytest.raises(Forbidden):
        auth.authorize(Access.STAFF, bearer(STAFF_A), "b")
    with pytest.raises(Forbidden):
        auth.authorize(Access.GUEST_OR_STAFF, bearer(STAFF_B), "a", "r1")


def test_staff_routes_refuse_guests_and_strangers(auth: Authenticator) -> None:
    with pytest.raises(Unauthenticated):
        auth.authorize(Access.STAFF, Credentials(manage_token=MANAGE), "a", "r1")
    with pytest.raises(Unauthenticated):
        auth.authorize(Access.STAFF, bearer("stf_revoked"), "a")


def test_a_manage_token_opens_its_own_reservation_only(auth: Authenticator) -> None:
    guest = auth.authorize(Access.GUEST_OR_STAFF, Credentials(manage_token=MANAGE), "a", "r1")
    assert (guest.role, guest.actor) == ("guest", "guest")
    with pytest.raises(Forbidden):
        auth.authorize(Access.GUEST_OR_STAFF, Credentials(manage_token="guess"), "a", "r1")
    with pytest.raises(NotFound):
        auth.authorize(Access.GUEST_OR_STAFF, Credentials(manage_token=MANAGE), "b", "r1")
    with pytest.raises(Unauthenticated):
        auth.authorize(Access.GUEST_OR_STAFF, Credentials(), "a", "r1")


def test_staff_acting_on_a_reservation_are_recorded_as_staff(auth: Authenticator) -> None:
    assert auth.authorize(Access.GUEST_OR_STAFF, bearer(STAFF_A), "a", "r1").actor == "staff"
