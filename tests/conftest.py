"""Shared test set-up. The environment is fixed before anything imports app.py, because
Chalice evaluates decorator arguments at import and boto3 reads credentials on first use."""

from __future__ import annotations

import os

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "TABLE_NAME": "reservations-test",
        "ADMIN_TOKEN": "admin-token-for-tests",
        "SIGNING_KEY": "signing-key-for-tests-0123456789",
        "EVENT_BUS_NAME": "reservations-test",
        "STREAM_FAILURE_QUEUE": "reservations-test-stream-failures",
        "STAFF_NOTIFICATION_QUEUE": "reservations-test-staff-notifications",
        "PUBLIC_BASE_URL": "https://reservations.test",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)
for leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "ADMIN_TOKEN_PARAMETER", "SIGNING_KEY_PARAMETER"):
    os.environ.pop(leaked, None)
