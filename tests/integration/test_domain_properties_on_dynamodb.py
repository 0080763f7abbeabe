"""The domain's properties (tests/unit/test_domain_properties.py) on the DynamoDB stores, on
moto: the same state machine, its capacity held by the table's conditions and transactions.
Bounded (a fresh table each sequence): HYPOTHESIS_MOTO_EXAMPLES sequences (default 8)."""

from __future__ import annotations

import os

import boto3
import hypothesis
import pytest
from moto import mock_aws

from chalicelib.adapters.dynamodb import dynamo_stores
from chalicelib.services.ports import Stores
from localdev.aws_emulation import serialize_dynamodb_requests
from localdev.provision import provision
from tests.unit.test_domain_properties import Reservations

EXAMPLES = int(os.environ.get("HYPOTHESIS_MOTO_EXAMPLES", "8"))


class ReservationsOnDynamoDB(Reservations):
    first_capacity = 4  # full within fewer steps

    def make_stores(self) -> Stores:
        """A fresh table in a fresh in-process AWS."""
        serialize_dynamodb_requests()
        self.aws = mock_aws()
        self.aws.start()
        session = boto3.session.Session()
        provision(session, stage="test")
        return dynamo_stores(session.client("dynamodb"), os.environ["TABLE_NAME"])

    def teardown(self) -> None:
        try:
            super().teardown()
        finally:
            self.aws.stop()


ReservationsOnDynamoDB.TestCase.settings = hypothesis.settings(
    max_examples=EXAMPLES,
    stateful_step_count=15,
    deadline=None,
    derandomize="HYPOTHESIS_MOTO_EXAMPLES" not in os.environ,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
test_the_properties_hold_on_dynamodb = pytest.mark.slow(ReservationsOnDynamoDB.TestCase)
