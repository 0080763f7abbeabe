"""Typed settings: every stage names all its resources; nothing falls back to local ones."""

from __future__ import annotations

import pytest

from chalicelib.wiring.config import MissingSettings, Settings


def test_settings_name_every_missing_variable_and_have_no_local_defaults() -> None:
    complete = {
        "TABLE_NAME": "reservations-prod",
        "EVENT_BUS_NAME": "reservations-prod",
        "STREAM_FAILURE_QUEUE": "reservations-prod-stream-failures",
        "SENDER_EMAIL": "reservations@example.com",
    }
    assert Settings.from_env(complete).event_bus_name == "reservations-prod"
    without = {k: v for k, v in complete.items() if k not in {"EVENT_BUS_NAME", "SENDER_EMAIL"}}
    with pytest.raises(MissingSettings, match="set EVENT_BUS_NAME, SENDER_EMAIL in the stage"):
        Settings.from_env(without)
