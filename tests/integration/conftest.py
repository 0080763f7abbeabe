"""moto (`mock_aws`, in-process) with the table created from infra/resources.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalicelib.store_dynamodb import DynamoStore
from localdev.emulator import serialize_dynamodb_requests
from localdev.provision import provision


@pytest.fixture
def aws() -> Iterator[Any]:
    """A boto3 session inside a fresh in-process AWS, resources provisioned."""
    serialize_dynamodb_requests()
    with mock_aws():
        session = boto3.session.Session()
        outputs = provision(session, stage="test")
        assert outputs["TableName"] == os.environ["TABLE_NAME"]
        yield session


@pytest.fixture
def dynamo_store(aws: Any) -> DynamoStore:
    return DynamoStore(aws.client("dynamodb"), os.environ["TABLE_NAME"])
