"""What everything here that runs on moto shares, the local runtime and the tests alike: the
account and region, and the fixes that make moto behave like AWS where this service depends
on it.

DynamoDB serialises each request against an item; moto does not. Its TransactWriteItems
deep-copies the table for rollback without a lock: under concurrent requests that copy crashes
("dictionary changed size during iteration", seen here with 40 threads), and a failed
transaction restores its copy over whatever other requests wrote meanwhile.
`serialize_dynamodb_requests` makes every DynamoDB request atomic, as in AWS, so concurrency
tests measure this service and not the emulator.

moto's CloudFormation skips a few resource types, with a warning each time;
`known_gaps_quiet` silences those known ones only.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import warnings
from collections.abc import Iterator
from typing import Any

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
_dynamodb_lock = threading.RLock()


def serialize_dynamodb_requests() -> None:
    """Make each moto DynamoDB and DynamoDB Streams request atomic (idempotent).

    Streams too: moto appends a transaction's stream records as it applies each item and drops
    them on rollback, so a stream read in between would see records of a transaction that then
    failed (seen here: a staff email for a booking refused as full), and after the rollback
    sequence numbers are reused. In DynamoDB a record appears only once its write committed.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    _trimmed_reads_refused()
    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action
        if getattr(original, "_serialized", False):
            continue
        setattr(handler, "call_action", _locked(original))  # noqa: B010 - patching a class
    if not getattr(DynamoDBBackend.transact_write_items, "_keeps_streams", False):
        import moto.dynamodb.models as dynamodb_models

        setattr(  # noqa: B010 - patching a class
            DynamoDBBackend,
            "transact_write_items",
            _rollback_in_place(DynamoDBBackend.transact_write_items),
        )
        setattr(dynamodb_models, "copy", _CopyWithoutTables())  # noqa: B010 - patching moto


def _rollback_in_place(original: Any) -> Any:
    """moto rolls a failed transaction back by replacing each table with a deep copy taken
    before it: open shard iterators keep the old table's stream (they would read the cancelled
    writes and nothing written afterwards), and copying the whole table, stream included,
    before every transaction makes each booking slower than the last (95 ms to 500 ms over 56
    bookings, seen here). Instead: snapshot only the items the transaction touches, and on
    failure put them back in the same table and cut its stream back."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        snapshots = []
        tables: dict[str, Any] = {}
        for entry in transact_items:
            [(kind, operation)] = entry.items()
            table = self.get_table(operation["TableName"])
            key = operation["Item"] if kind == "Put" else operation["Key"]
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            before = table.get_item(hash_key, range_key)
            snapshots.append((table, hash_key, range_key, copy.deepcopy(before)))
            tables[table.name] = table
        streams = {
            name: len(table.stream_shard.items) if table.stream_shard else 0
            for name, table in tables.items()
        }
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, before in reversed(snapshots):
                _put_back(table, hash_key, range_key, before)
            for name, table in tables.items():
                self.tables[name] = table
                if table.stream_shard is not None:
                    del table.stream_shard.items[streams[name] :]
            raise

    transact_write_items._keeps_streams = True  # type: ignore[attr-defined]
    return transact_write_items


def _put_back(table: Any, hash_key: Any, range_key: Any, before: Any) -> None:
    if range_key is None:
        if before is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = before
    elif before is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = before


class _CopyWithoutTables:
    """moto's `copy` module, except that a whole table is not copied (see above)."""

    def __init__(self) -> None:
        import copy

        self._copy = copy

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else self._copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._copy, name)


def _locked(original: Any) -> Any:
    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _dynamodb_lock:
            return original(self)

    call_action._serialized = True  # type: ignore[attr-defined]
    return call_action


# Resource types moto's CloudFormation skips (it says so with a warning). The SES identity is
# created directly below; the queue policy only matters to AWS's own EventBridge service;
# alarms and the on-call email subscription have nothing to watch or mail locally.
SKIPPED_BY_MOTO = (
    "AWS::SES::EmailIdentity",
    "AWS::SQS::QueuePolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::SNS::Subscription",
)


@contextlib.contextmanager
def known_gaps_quiet() -> Iterator[None]:
    """Around a CloudFormation call on moto: silence its notices for SKIPPED_BY_MOTO only (any
    other skipped type still shows), and read an archive's EventPattern as AWS does (an
    object; moto expects a JSON string)."""
    _archive_patterns_as_objects()
    log = logging.getLogger("moto")  # moto's CloudFormation logs under its top-level logger
    drop = _DropKnownGaps()
    log.addFilter(drop)
    try:
        with warnings.catch_warnings():
            for resource_type in SKIPPED_BY_MOTO:
                warnings.filterwarnings("ignore", f"Tried to parse {resource_type}")
            yield
    finally:
        log.removeFilter(drop)


def silence_known_gaps() -> None:
    """What `known_gaps_quiet` does, for good: for the emulator's own process, where the
    CloudFormation calls arrive as requests."""
    _archive_patterns_as_objects()
    logging.getLogger("moto").addFilter(_DropKnownGaps())
    for resource_type in SKIPPED_BY_MOTO:
        warnings.filterwarnings("ignore", f"Tried to parse {resource_type}")


class _DropKnownGaps(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not any(t in record.getMessage() for t in SKIPPED_BY_MOTO)


def _archive_patterns_as_objects() -> None:
    from moto.events.models import Archive

    original = Archive.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]
    if getattr(original, "_objects_ok", False):
        return

    @functools.wraps(original)
    def create(cls: Any, name: str, cloudformation_json: Any, *args: Any, **kw: Any) -> Any:
        properties = cloudformation_json.get("Properties", {})
        if isinstance(properties.get("EventPattern"), dict):
            import json

            properties = {**properties, "EventPattern": json.dumps(properties["EventPattern"])}
            cloudformation_json = {**cloudformation_json, "Properties": properties}
        return original(cls, name, cloudformation_json, *args, **kw)

    create._objects_ok = True  # type: ignore[attr-defined]
    setattr(Archive, "create_from_cloudformation_json", classmethod(create))  # noqa: B010


def _trimmed_reads_refused() -> None:
    """A shard iterator at a sequence number older than the shard's oldest record is refused
    with TrimmedDataAccessException, as DynamoDB Streams refuses records past their 24 h
    (moto crashes on them). The operator CLI's "records lost" path depends on it."""
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodbstreams.models import DynamoDBStreamsBackend

    original = DynamoDBStreamsBackend.get_shard_iterator
    if getattr(original, "_refuses_trimmed", False):
        return

    @functools.wraps(original)
    def get_shard_iterator(
        self: Any, arn: str, shard_id: str, kind: str, sequence_number: Any = None
    ) -> Any:
        if kind in {"AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"}:
            shard = self._get_table_from_arn(arn).stream_shard
            if shard is not None and int(sequence_number) < shard.starting_sequence_number:
                raise JsonRESTError(
                    "TrimmedDataAccessException",
                    f"sequence number {sequence_number} is beyond the stream's trim horizon",
                )
        return original(self, arn, shard_id, kind, sequence_number)

    get_shard_iterator._refuses_trimmed = True  # type: ignore[attr-defined]
    setattr(DynamoDBStreamsBackend, "get_shard_iterator", get_shard_iterator)  # noqa: B010
