"""The embedded AWS emulator (moto) and the fixes that make it behave like AWS where it matters.

DynamoDB serialises each request against an item; moto does not. Its TransactWriteItems
deep-copies the table for rollback without a lock: under concurrent requests that copy crashes
("dictionary changed size during iteration", seen here with 40 threads), and a failed
transaction restores its copy over whatever other requests wrote meanwhile.
`serialize_dynamodb_requests` makes every DynamoDB request atomic, as in AWS, so concurrency
tests measure this service and not the emulator.
"""

from __future__ import annotations

import functools
import logging
import threading
from pathlib import Path
from typing import Any

REGION = "eu-west-1"
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

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action
        if getattr(original, "_serialized", False):
            continue
        setattr(handler, "call_action", _locked(original))  # noqa: B010 - patching a class
    if not getattr(DynamoDBBackend.transact_write_items, "_keeps_streams", False):
        setattr(  # noqa: B010 - patching a class
            DynamoDBBackend,
            "transact_write_items",
            _rollback_in_place(DynamoDBBackend.transact_write_items),
        )


def _rollback_in_place(original: Any) -> Any:
    """moto rolls a failed transaction back by replacing each table with a deep copy taken
    before it, and open shard iterators keep the old table's stream: they would read the
    cancelled writes and nothing written afterwards. Keep each table object instead, with the
    copy's contents and its own stream cut back to where it was."""

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: Any) -> Any:
        before = {
            name: (table, len(table.stream_shard.items) if table.stream_shard else 0)
            for name, table in self.tables.items()
        }
        try:
            return original(self, transact_items)
        except Exception:
            for name, (table, stream_length) in before.items():
                restored = self.tables.get(name)
                if restored is None or restored is table:
                    continue
                shard = table.stream_shard
                table.__dict__.update(restored.__dict__)
                if shard is not None:
                    del shard.items[stream_length:]
                    table.stream_shard = shard
                self.tables[name] = table
            raise

    transact_write_items._keeps_streams = True  # type: ignore[attr-defined]
    return transact_write_items


def _locked(original: Any) -> Any:
    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        with _dynamodb_lock:
            return original(self)

    call_action._serialized = True  # type: ignore[attr-defined]
    return call_action


class Emulator:
    """moto in server mode on a loopback port."""

    def __init__(self, host: str = "127.0.0.1", port: int = 4566) -> None:
        self.host, self.port = host, port
        self._server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        serialize_dynamodb_requests()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self._server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


def write_aws_profile(directory: Path, endpoint: str, profile: str = "reservations-local") -> None:
    """The AWS config the `local` stage reads (AWS_CONFIG_FILE): endpoint and dummy keys.

    A profile rather than AWS_ENDPOINT_URL because Chalice's stage variables override the shell,
    so the emulator's port, known only at start-up, could not reach `chalice local` otherwise.
    """
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config").write_text(
        f"[profile {profile}]\n"
        f"region = {REGION}\n"
        f"endpoint_url = {endpoint}\n"
        "aws_access_key_id = local\n"
        "aws_secret_access_key = local\n"
    )
    (directory / "credentials").write_text("")
