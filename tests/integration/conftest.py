"""moto (`mock_aws`, in-process) with the table created from infra/resources.yaml."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from chalicelib.adapters.dynamodb import dynamo_stores as dynamo_stores_on
from chalicelib.services.ports import Stores
from chalicelib.wiring import bootstrap
from localdev.aws_emulation import serialize_dynamodb_requests
from localdev.provision import provision
from tests.app.conftest import ADMIN, PROJECT, Api
from tests.builders import restaurant_spec
from tests.pipeline import Flow, Pipeline


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
def dynamo_stores(aws: Any) -> Stores:
    return dynamo_stores_on(aws.client("dynamodb"), os.environ["TABLE_NAME"])


@pytest.fixture
def flow(aws: Any) -> Iterator[Flow]:
    """The app on moto with restaurant bistro-a, its staff token, and the event pipeline."""
    outputs = provision(aws, stage="test")  # the stack exists: this only reads its outputs
    bootstrap.reset()
    import app as app_module

    with Client(app_module.app, stage_name="test", project_dir=str(PROJECT)) as client:
        api = Api(client)
        spec = restaurant_spec("bistro-a", staff_emails=["chef@a.example", "desk@a.example"])
        assert api.call("POST", "/restaurants", spec.model_dump(mode="json"), ADMIN)[0] == 201
        token = api.call("POST", "/restaurants/bistro-a/staff-tokens", {"label": "x"}, ADMIN)
        staff = {"Authorization": "Bearer " + token[1]["token"]}
        yield Flow(api, Pipeline(aws, app_module, outputs), staff, aws)
    bootstrap.reset()
