"""`python -m ops reindex` on moto: reservations stored before the due index held answered ones
(their items without `GSI2PK`/`GSI2SK`) are found by no retention run until it has given them
their keys; then the run removes their guests' details as for any other. The command changes
nothing else, publishes nothing, answers the same on a second run, leaves a reservation that
changed meanwhile to its own write, and stays within the operator policy."""

from __future__ import annotations

import argparse
import io
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.adapters.dynamodb.reservations import due_keys, reservation_from_item
from chalicelib.adapters.layout import DUE_PK, DUE_SK
from infra.iam import operator_policy
from ops import reindex
from ops.__main__ import reindex_reservations
from ops.stage import Stage
from tests.integration.test_guest_details import run_at, table_items
from tests.integration.test_iam_coverage import allowed
from tests.integration.test_ops import required
from tests.pipeline import RES, Flow, sent_emails


def reservation_items(flow: Flow) -> dict[str, dict[str, Any]]:
    return {i["id"]["S"]: i for i in table_items(flow) if i.get("entity") == {"S": "reservation"}}


def stored_before_the_index(flow: Flow, ids: list[str]) -> None:
    """The items as the version before wrote them: no due keys once answered."""
    dynamodb = flow.session.client("dynamodb")
    for item in (reservation_items(flow)[i] for i in ids):
        dynamodb.update_item(
            TableName=os.environ["TABLE_NAME"], Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression=f"REMOVE {DUE_PK}, {DUE_SK}",
        )  # fmt: skip
    flow.pipeline.drain()  # same-status changes: the relay publishes nothing


def run(stage: Stage, *, dry_run: bool) -> tuple[int, str]:
    out = io.StringIO()
    code = reindex_reservations(stage, argparse.Namespace(dry_run=dry_run), out)
    return code, out.getvalue()


def recording(stage: Stage) -> list[tuple[str, str, dict[str, Any]]]:
    calls: list[tuple[str, str, dict[str, Any]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        calls.append((model.service_model.endpoint_prefix, model.name, dict(params)))

    stage.session.events.register("before-parameter-build", record)
    return calls


def test_old_reservations_get_their_keys_and_the_retention_run_then_finds_them(
    flow: Flow,
) -> None:
    import boto3

    accepted = flow.book(hhmm="19:30")
    declined = flow.book(hhmm="20:00", party_size=3)
    waiting = flow.book(hhmm="20:30", party_size=4)  # PENDING: already under UNANSWERED
    flow.pipeline.drain()
    assert flow.api.call("POST", f"{RES}/{accepted['id']}/accept", None, flow.staff)[0] == 200
    reason = {"reason": "Sorry, we are closed"}
    assert flow.api.call("POST", f"{RES}/{declined['id']}/decline", reason, flow.staff)[0] == 200
    flow.pipeline.drain()
    answered = [accepted["id"], declined["id"]]
    written = {i: reservation_items(flow)[i] for i in answered}  # as a write leaves them
    assert all(item[DUE_PK] == {"S": "GUEST_DETAILS"} for item in written.values())
    stored_before_the_index(flow, answered)
    emails, summary = len(sent_emails()), flow.summary()
    seating = datetime.fromisoformat(accepted["starts_at"]).astimezone(UTC)
    later: Callable[[], datetime] = lambda: seating + timedelta(days=91)  # noqa: E731
    assert run_at(flow, later)["removed"] == 0  # the retention run cannot find them

    stage = Stage("test", boto3.session.Session(), flow.pipeline.outputs)
    calls = recording(stage)
    before = reservation_items(flow)
    code, said = run(stage, dry_run=True)
    assert code == 0 and "2 to index (2 under GUEST_DETAILS), 0 without guest details" in said
    assert reservation_items(flow) == before  # a dry run writes nothing

    code, said = run(stage, dry_run=False)
    assert code == 0 and "2 indexed (2 under GUEST_DETAILS)" in said, said
    after = reservation_items(flow)
    for i in answered:  # the keys a write gives, and nothing else changed
        assert after[i] == written[i]
        keys = due_keys(reservation_from_item(after[i]))
        assert {k: after[i][k]["S"] for k in (DUE_PK, DUE_SK)} == keys
    assert after[waiting["id"]] == before[waiting["id"]]
    assert run(stage, dry_run=False) == (
        0,
        "indexing reservations stored without their due-index keys, stage test\n"
        "0 indexed, 0 without guest details (left out), 0 changed meanwhile (left to their own "
        "write), 0 unreadable\n",
    )
    flow.pipeline.drain()
    assert len(sent_emails()) == emails and flow.summary() == summary  # no event, no email

    removed = run_at(flow, later)["removed"] + run_at(flow, later)["removed"]
    assert removed == 2
    assert all(reservation_items(flow)[i].get("guest") is None for i in answered)
    denied = [
        (service, operation, action, resource)
        for service, operation, params in calls
        for action, resource in required(service, operation, params)
        if not allowed(operator_policy("test"), action, resource)
    ]
    assert denied == [] and {op for _, op, _ in calls} == {"Scan", "UpdateItem"}, denied


def test_a_reservation_that_changes_meanwhile_is_left_to_its_own_write(flow: Flow) -> None:
    """Its guest removes their details between the command's read and its write: the item,
    written again without them and so out of the index, must not get keys back (only the
    version condition tells, as the item has no due key either way)."""
    import boto3

    booked = flow.book(hhmm="19:30")
    manage = f"{RES}/{booked['id']}/%s?token={booked['manage_token']}"
    assert flow.api.call("POST", manage % "cancel")[0] == 200
    flow.pipeline.drain()
    stored_before_the_index(flow, [booked["id"]])
    stage = Stage("test", boto3.session.Session(), flow.pipeline.outputs)

    def guest_removes_their_details(**_: Any) -> None:
        assert flow.api.call("DELETE", manage % "guest")[0] == 200

    stage.session.events.register_first(
        "before-call.dynamodb.UpdateItem", guest_removes_their_details
    )
    done = reindex.reindex(stage, io.StringIO(), dry_run=False)
    assert (sum(done.indexed.values()), done.changed_meanwhile) == (0, 1)
    item = reservation_items(flow)[booked["id"]]
    assert "guest" not in item and DUE_PK not in item, item
    assert reindex.reindex(stage, io.StringIO(), dry_run=False).nothing_to_index == 1


def test_an_unreadable_item_is_named_and_left_as_it_is(flow: Flow) -> None:
    import boto3

    broken = {"PK": {"S": "RESTAURANT#bistro-a"}, "SK": {"S": "RESERVATION#broken"},
              "entity": {"S": "reservation"}, "id": {"S": "broken"}, "version": {"N": "3"},
              "guest": {"M": {"name": {"S": "Ada Secret"}, "email": {"N": "12"}}}}  # fmt: skip
    flow.session.client("dynamodb").put_item(TableName=os.environ["TABLE_NAME"], Item=broken)
    stage = Stage("test", boto3.session.Session(), flow.pipeline.outputs)
    code, said = run(stage, dry_run=False)
    assert code == 1
    assert "RESTAURANT#bistro-a RESERVATION#broken: not a readable reservation" in said
    assert said.endswith(", 1 unreadable\n")
    assert "guest.email" in said and "Ada Secret" not in said and "12" not in said  # no values
    assert reservation_items(flow)["broken"] == broken


def test_stopped_part_way_it_says_what_it_did_and_goes_on_when_run_again(flow: Flow) -> None:
    import boto3
    import botocore.exceptions

    booked = [flow.book(hhmm=hhmm) for hhmm in ("19:30", "20:00", "20:30")]
    flow.pipeline.drain()
    for b in booked:
        assert flow.api.call("POST", f"{RES}/{b['id']}/accept", None, flow.staff)[0] == 200
    flow.pipeline.drain()
    stored_before_the_index(flow, [b["id"] for b in booked])
    stage = Stage("test", boto3.session.Session(), flow.pipeline.outputs)
    writes = [0]

    def throttled_at_the_second(**_: Any) -> None:
        writes[0] += 1
        if writes[0] == 2:  # as botocore raises once its retries are spent
            error = {"Error": {"Code": "ThrottlingException", "Message": "slow down"}}
            raise botocore.exceptions.ClientError(error, "UpdateItem")  # type: ignore[arg-type]

    stage.session.events.register_first("before-call.dynamodb.UpdateItem", throttled_at_the_second)
    out = io.StringIO()
    with pytest.raises(botocore.exceptions.ClientError):
        reindex_reservations(stage, argparse.Namespace(dry_run=False), out)
    assert out.getvalue().endswith("\n1 indexed (1 under GUEST_DETAILS), 0 without guest "
                                   "details (left out), 0 changed meanwhile (left to their own "
                                   "write), 0 unreadable\n"), out.getvalue()  # fmt: skip
    code, said = run(stage, dry_run=False)
    assert code == 0 and "\n2 indexed (2 under GUEST_DETAILS), " in said, said
    assert all(i[DUE_PK] == {"S": "GUEST_DETAILS"} for i in reservation_items(flow).values())
