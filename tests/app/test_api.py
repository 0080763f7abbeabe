"""The REST contract through chalice.test.Client: status codes, headers, bodies, auth."""

from __future__ import annotations

from typing import Any

import pytest

from tests.app.conftest import ADMIN, Api, create_restaurant, guest_request, upcoming_wednesday
from tests.builders import restaurant_spec

RES = "/restaurants/bistro-a/reservations"


def book(api: Api, **overrides: Any) -> dict[str, Any]:
    status, body, _ = api.call("POST", RES, guest_request(**overrides))
    assert status == 201, body
    return dict(body)


def error_of(response: tuple[int, Any, dict[str, str]]) -> tuple[int, str, str | None]:
    status, body, _ = response
    assert set(body) == {"error"} and {"code", "message", "field"} <= set(body["error"])
    return status, body["error"]["code"], body["error"]["field"]


class TestRestaurants:
    def test_admin_creates_and_replaces(self, api: Api) -> None:
        body = restaurant_spec("new-place").model_dump(mode="json")
        status, created, headers = api.call("POST", "/restaurants", body, ADMIN)
        assert (status, headers["Location"], created["version"]) == (
            201,
            "/restaurants/new-place",
            1,
        )
        assert error_of(api.call("POST", "/restaurants", body, ADMIN))[:2] == (
            409,
            "already_exists",
        )
        body.pop("id")
        body["capacity"] = 60
        status, replaced, _ = api.call("PUT", "/restaurants/new-place", body, ADMIN)
        assert (status, replaced["capacity"], replaced["version"]) == (200, 60, 2)

    def test_public_profile_hides_staff_contacts(self, api: Api, staff_a: dict[str, str]) -> None:
        status, profile, _ = api.call("GET", "/restaurants/bistro-a")
        assert status == 200 and profile["timezone"] == "Europe/Paris"
        assert "staff_emails" not in profile and "capacity" not in profile

    def test_public_profile_names_the_place_but_not_its_reply_address(self, api: Api) -> None:
        body = restaurant_spec(
            "le-coin",
            address="3 place du Marché, 69001 Lyon",
            phone="+33 4 78 00 00 00",
            locale="fr",
            contact_email="bonjour@le-coin.example",
        ).model_dump(mode="json")
        assert api.call("POST", "/restaurants", body, ADMIN)[0] == 201
        status, profile, _ = api.call("GET", "/restaurants/le-coin")
        assert status == 200
        assert (profile["name"], profile["address"], profile["phone"], profile["locale"]) == (
            "Chez Test",
            "3 place du Marché, 69001 Lyon",
            "+33478000000",
            "fr",
        )
        assert "contact_email" not in profile and "staff_emails" not in profile

    def test_unknown_restaurant(self, api: Api) -> None:
        assert error_of(api.call("GET", "/restaurants/nowhere")) == (
            404,
            "not_found",
            "restaurant_id",
        )
        put = restaurant_spec("xyz").model_dump(mode="json", exclude={"id"})
        assert error_of(api.call("PUT", "/restaurants/nowhere", put, ADMIN))[0] == 404

    def test_invalid_settings_name_the_field(self, api: Api) -> None:
        body = restaurant_spec("bad-hours").model_dump(mode="json")
        body["opening_hours"]["monday"] = [{"opens": "12:10", "closes": "14:00"}]
        assert error_of(api.call("POST", "/restaurants", body, ADMIN)) == (
            422,
            "validation_error",
            "opening_hours.monday.0.opens",
        )

    def test_staff_tokens_can_be_listed_and_revoked(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        status, listing, _ = api.call("GET", "/restaurants/bistro-a/staff-tokens", None, ADMIN)
        [token] = listing["staff_tokens"]
        assert status == 200 and "token" not in token
        assert api.call("GET", RES + f"?date={upcoming_wednesday()}", None, staff_a)[0] == 200
        status, _, _ = api.call(
            "DELETE", f"/restaurants/bistro-a/staff-tokens/{token['id']}", None, ADMIN
        )
        assert status == 204
        assert (
            error_of(api.call("GET", RES + f"?date={upcoming_wednesday()}", None, staff_a))[0]
            == 401
        )


class TestBooking:
    def test_request_is_created_pending_with_location_and_manage_token(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        status, body, headers = api.call("POST", RES, guest_request())
        assert status == 201
        assert headers["Location"] == f"{RES}/{body['id']}"
        assert body["status"] == "PENDING" and len(body["manage_token"]) >= 40
        assert body["starts_at"].endswith(("+01:00", "+02:00"))
        assert headers["Cache-Control"] == "no-store"

    def test_guest_views_and_cancels_with_the_manage_token(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        booked = book(api)
        url = f"{RES}/{booked['id']}"
        status, seen, _ = api.call("GET", f"{url}?token={booked['manage_token']}")
        assert status == 200 and seen["id"] == booked["id"] and "manage_token" not in seen
        assert error_of(api.call("GET", f"{url}?token=not-it"))[:2] == (403, "forbidden")
        assert error_of(api.call("GET", url))[:2] == (401, "unauthenticated")
        status, cancelled, _ = api.call("POST", f"{url}/cancel?token={booked['manage_token']}")
        assert (status, cancelled["status"], cancelled["cancelled_by"]) == (
            200,
            "CANCELLED",
            "guest",
        )

    def test_staff_accept_decline_and_conflicts_name_the_current_status(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        first, second = book(api), book(api, hhmm="12:00")
        status, accepted, _ = api.call("POST", f"{RES}/{first['id']}/accept", None, staff_a)
        assert (status, accepted["status"], accepted["version"]) == (200, "ACCEPTED", 2)
        status, declined, _ = api.call(
            "POST", f"{RES}/{second['id']}/decline", {"reason": "Closed for a wedding"}, staff_a
        )
        assert (declined["status"], declined["decline_reason"]) == (
            "DECLINED",
            "Closed for a wedding",
        )
        status, body, _ = api.call("POST", f"{RES}/{second['id']}/accept", None, staff_a)
        assert (status, body["error"]["code"]) == (409, "invalid_transition")
        assert body["error"]["message"] == "reservation is DECLINED and cannot become ACCEPTED"

    def test_guests_cannot_accept(self, api: Api, staff_a: dict[str, str]) -> None:
        booked = book(api)
        response = api.call("POST", f"{RES}/{booked['id']}/accept?token={booked['manage_token']}")
        assert error_of(response)[0] == 401

    def test_day_sheet_sorted_and_filtered(self, api: Api, staff_a: dict[str, str]) -> None:
        late, early = book(api, hhmm="21:00"), book(api, hhmm="12:15")
        api.call("POST", f"{RES}/{late['id']}/accept", None, staff_a)
        day = upcoming_wednesday()
        status, sheet, _ = api.call("GET", f"{RES}?date={day}", None, staff_a)
        assert [r["id"] for r in sheet["reservations"]] == [early["id"], late["id"]]
        _, accepted, _ = api.call("GET", f"{RES}?date={day}&status=accepted", None, staff_a)
        assert [r["id"] for r in accepted["reservations"]] == [late["id"]]
        assert error_of(api.call("GET", RES, None, staff_a)) == (422, "validation_error", "date")
        assert error_of(api.call("GET", f"{RES}?date={day}&status=LOST", None, staff_a))[2] == (
            "status.0"
        )

    def test_capacity_conflict_is_409_and_decline_frees_it(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        full = [book(api, party_size=8) for _ in range(5)]
        refused = api.call("POST", RES, guest_request(party_size=1))
        assert error_of(refused) == (409, "slot_full", "starts_at")
        assert refused[1]["error"]["message"] == (
            f"no table for 1 at {upcoming_wednesday()} 19:30: that time is fully booked; "
            "check availability for another time"
        )
        api.call("POST", f"{RES}/{full[0]['id']}/decline", None, staff_a)
        assert api.call("POST", RES, guest_request(party_size=8))[0] == 201

    def test_availability(self, api: Api, staff_a: dict[str, str]) -> None:
        for _ in range(5):
            book(api, party_size=8)
        status, day, _ = api.call(
            "GET", f"/restaurants/bistro-a/availability?date={upcoming_wednesday()}&party_size=2"
        )
        slots = {s["starts_at"][11:16]: s["available"] for s in day["slots"]}
        assert status == 200 and slots["19:30"] is False and slots["12:00"] is True
        bad = api.call("GET", "/restaurants/bistro-a/availability?date=tomorrow&party_size=2")
        assert error_of(bad) == (422, "validation_error", "date")
        missing = api.call("GET", f"/restaurants/bistro-a/availability?date={upcoming_wednesday()}")
        assert error_of(missing) == (422, "validation_error", "party_size")


class TestIdempotencyKey:
    def test_replay_returns_the_same_reservation(self, api: Api, staff_a: dict[str, str]) -> None:
        key = {"Idempotency-Key": "7f1c9a1e-booking-1"}
        s1, first, h1 = api.call("POST", RES, guest_request(), key)
        s2, again, h2 = api.call("POST", RES, guest_request(), key)
        assert (s1, s2) == (201, 201)
        assert again == first and h2["Location"] == h1["Location"]
        assert h2["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in h1
        _, sheet, _ = api.call("GET", f"{RES}?date={upcoming_wednesday()}", None, staff_a)
        assert len(sheet["reservations"]) == 1

    def test_same_key_other_body_is_422(self, api: Api, staff_a: dict[str, str]) -> None:
        key = {"Idempotency-Key": "k-1"}
        api.call("POST", RES, guest_request(), key)
        assert error_of(api.call("POST", RES, guest_request(party_size=3), key)) == (
            422,
            "idempotency_key_reused",
            "Idempotency-Key",
        )


class TestMalformedRequests:
    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ("{not json", 400, "malformed_json"),
            ("[1, 2]", 400, "malformed_json"),
            ("", 400, "body_required"),
            (b"\xff\xfe", 400, "malformed_json"),
            ('{"notes": "' + "x" * 20_000 + '"}', 413, "body_too_large"),
        ],
    )
    def test_body_problems(
        self, api: Api, staff_a: dict[str, str], body: str, status: int, code: str
    ) -> None:
        assert error_of(api.call("POST", RES, body))[:2] == (status, code)

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"party_size": "2"}, "party_size"),
            ({"party_size": 2.5}, "party_size"),
            ({"starts_at": 1767225600}, "starts_at"),
            ({"starts_at": "next friday"}, "starts_at"),
            ({"starts_at": "2026-12-24"}, "starts_at"),
            ({"notes": "x" * 501}, "notes"),
            ({"table": 12}, "table"),
            ({"guest": {"name": "", "email": "a@example.com"}}, "guest.name"),
            ({"guest": {"name": "x" * 101, "email": "a@example.com"}}, "guest.name"),
            ({"guest": {"name": "Bell\x07", "email": "a@example.com"}}, "guest.name"),
            ({"guest": {"name": "Ann", "email": "not-an-email"}}, "guest.email"),
            ({"guest": {"name": "Ann"}}, "guest.email"),
            ({"guest": {"name": "Ann", "email": "a@example.com", "phone": "0612"}}, "guest.phone"),
            ({"language": "de"}, "language"),
            ({"guest": {"name": "Ann", "email": "élodie@example.com"}}, "guest.email"),
        ],
    )
    def test_shape_and_types_name_the_field(
        self, api: Api, staff_a: dict[str, str], change: dict[str, Any], field: str
    ) -> None:
        status, body, _ = api.call("POST", RES, guest_request(**change))
        assert (status, body["error"]["code"], body["error"]["field"]) == (
            422,
            "validation_error",
            field,
        )
        _, sheet, _ = api.call("GET", f"{RES}?date={upcoming_wednesday()}", None, staff_a)
        assert sheet["reservations"] == []

    def test_booking_rules_are_422_naming_the_field(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        assert error_of(api.call("POST", RES, guest_request(hhmm="19:20"))) == (
            422,
            "not_on_slot",
            "starts_at",
        )
        assert error_of(api.call("POST", RES, guest_request(party_size=12))) == (
            422,
            "party_size_out_of_range",
            "party_size",
        )

    def test_chalices_own_errors_use_the_same_shape(
        self, api: Api, staff_a: dict[str, str]
    ) -> None:
        status, body, _ = api.call("POST", RES, "x=1", {"Content-Type": "text/plain"})
        assert (status, body["error"]["code"]) == (415, "unsupported_media_type")
        status, body, _ = api.call("DELETE", RES, None, staff_a)
        assert (status, body["error"]["code"]) == (405, "method_not_allowed")

    def test_unknown_reservation_ids(self, api: Api, staff_a: dict[str, str]) -> None:
        assert (
            error_of(api.call("GET", f"{RES}/01KXXXXXXXXXXXXXXXXXXXXXXX", None, staff_a))[0] == 404
        )
        assert error_of(api.call("GET", f"{RES}/..%2F..%2Fetc", None, staff_a))[0] == 404


class TestTwoRestaurants:
    def test_staff_of_a_never_touch_b(
        self, api: Api, staff_a: dict[str, str], staff_b: dict[str, str]
    ) -> None:
        in_b = api.call("POST", "/restaurants/bistro-b/reservations", guest_request())[1]
        b_url = f"/restaurants/bistro-b/reservations/{in_b['id']}"
        day = upcoming_wednesday()
        for method, path in [
            ("GET", b_url),
            ("POST", b_url + "/accept"),
            ("POST", b_url + "/decline"),
            ("POST", b_url + "/cancel"),
            ("GET", f"/restaurants/bistro-b/reservations?date={day}"),
        ]:
            assert error_of(api.call(method, path, None, staff_a))[:2] == (403, "forbidden"), path
        # B's reservation addressed through A's path does not exist there.
        a_path = f"{RES}/{in_b['id']}"
        assert error_of(api.call("GET", a_path, None, staff_a))[0] == 404
        assert error_of(api.call("GET", f"{a_path}?token={in_b['manage_token']}"))[0] == 404
        assert api.call("GET", b_url, None, staff_b)[1]["status"] == "PENDING"

    def test_staff_tokens_are_not_admin_tokens(self, api: Api, staff_a: dict[str, str]) -> None:
        put = restaurant_spec("bistro-a").model_dump(mode="json", exclude={"id"})
        assert error_of(api.call("PUT", "/restaurants/bistro-a", put, staff_a))[0] == 403
        assert error_of(api.call("PUT", "/restaurants/bistro-a", put))[0] == 401
        assert (
            error_of(
                api.call("POST", "/restaurants/bistro-a/staff-tokens", {"label": "x"}, staff_a)
            )[0]
            == 403
        )


def test_every_route_declares_its_access() -> None:
    from app import app

    for path, methods in app.routes.items():
        for method, entry in methods.items():
            assert hasattr(entry.view_function, "access"), f"{method} {path} is unguarded"


def test_a_second_restaurant_needs_no_new_code(api: Api) -> None:
    token = create_restaurant(api, "third-place")
    assert token.startswith("stf_")
