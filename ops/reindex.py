"""`python -m ops reindex`: reservations stored before the due index (GSI2) held answered ones
get their keys, so that the retention run (`remove_old_guest_details`) finds them.

Every write of a reservation puts the whole item with the keys `due_keys` gives it, so only an
item no write has touched since that version lacks them. This reads the table once (a Scan
for reservations without a due key) and adds each one's keys, conditioned on its version: a
reservation that changed meanwhile is left to its own write, which gave it the keys it should
have (none, if its guest's details were removed meanwhile). Nothing else of the item
changes and its status stays, so the stream relay publishes nothing and nobody is emailed.
Stopped part-way, it says what it did; run again, it goes on where it stopped (what it indexed
is no longer read as missing its keys) and indexes nothing twice."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from ops.stage import Stage

if TYPE_CHECKING:
    from chalicelib.domain.reservations import Reservation

PROGRESS_EVERY = 100_000  # items read between two progress lines


@dataclass
class Reindexed:
    indexed: Counter[str] = field(default_factory=Counter)  # by due-index partition
    nothing_to_index: int = 0  # its guest's details are gone: it stays out of the index
    changed_meanwhile: int = 0  # left to its own write, which gave it the keys it should have
    unreadable: list[str] = field(default_factory=list)  # "PK SK" of items that do not parse


def reindex(
    stage: Stage, out: TextIO, *, dry_run: bool, done: Reindexed | None = None
) -> Reindexed:
    """Counted in `done` as it goes (the caller's, to say what was done if it stops early);
    a line each PROGRESS_EVERY items read."""
    import botocore.exceptions

    from chalicelib.adapters.dynamodb.reservations import due_keys
    from chalicelib.adapters.dynamodb.table import condition_failed
    from chalicelib.adapters.layout import DUE_PK, ENTITY, RESERVATION

    dynamodb, table = stage.client("dynamodb"), stage.outputs["TableName"]
    done = Reindexed() if done is None else done
    read = 0
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="#entity = :reservation AND attribute_not_exists(#due)",
        ExpressionAttributeNames={"#entity": ENTITY, "#due": DUE_PK},
        ExpressionAttributeValues={":reservation": {"S": RESERVATION}},
    ):
        before, read = read, read + page.get("ScannedCount", 0)
        if read // PROGRESS_EVERY > before // PROGRESS_EVERY:
            out.write(f"  {read:,} items read, {sum(done.indexed.values()):,} indexed so far\n")
        for item in page.get("Items", []):
            reservation = _read(item)
            if isinstance(reservation, str):
                where = f"{item['PK']['S']} {item['SK']['S']}"
                done.unreadable.append(where)
                out.write(f"  {where}: not a readable reservation ({reservation}), left as it is\n")
                continue
            keys = due_keys(reservation)
            if not keys:
                done.nothing_to_index += 1
                continue
            if dry_run:
                done.indexed[keys[DUE_PK]] += 1
                continue
            try:
                dynamodb.update_item(**_add_keys(table, item, keys))
            except botocore.exceptions.ClientError as error:
                if not condition_failed(error):
                    raise
                done.changed_meanwhile += 1
                continue
            done.indexed[keys[DUE_PK]] += 1
    return done


def _read(item: dict[str, Any]) -> Reservation | str:
    """The item's reservation, or what is wrong with it: the fields only, as pydantic's own
    message quotes their values (a guest's)."""
    import pydantic

    from chalicelib.adapters.dynamodb.reservations import reservation_from_item

    if "version" not in item:  # every write stores it
        return "version"
    try:
        return reservation_from_item(item)
    except pydantic.ValidationError as error:
        return ", ".join(sorted({".".join(map(str, e["loc"])) for e in error.errors()}))


def _add_keys(table: str, item: dict[str, Any], keys: dict[str, str]) -> dict[str, Any]:
    """The item's due keys set, if it is still the version read and still has none."""
    from chalicelib.adapters.dynamodb.table import to_item
    from chalicelib.adapters.layout import DUE_PK, DUE_SK

    return {
        "TableName": table,
        "Key": {"PK": item["PK"], "SK": item["SK"]},
        "UpdateExpression": "SET #due = :due, #due_sk = :due_sk",
        "ConditionExpression": "#version = :version AND attribute_not_exists(#due)",
        "ExpressionAttributeNames": {"#due": DUE_PK, "#due_sk": DUE_SK, "#version": "version"},
        "ExpressionAttributeValues": {
            **to_item({":due": keys[DUE_PK], ":due_sk": keys[DUE_SK]}),
            ":version": item["version"],
        },
    }
