"""The dollar model's fixed parts: what it counts from the template and how it scales."""

from __future__ import annotations

import math

from bench import costs
from infra.package import load_resources


def test_the_alarm_count_is_the_templates() -> None:
    resources = load_resources()["Resources"].values()
    assert costs.ALARMS == sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in resources)


def test_cold_starts_fade_with_traffic() -> None:
    assert costs.cold_fraction(0) == 1.0
    hourly = 30 * 24  # one invocation an hour: nearly always cold
    assert costs.cold_fraction(hourly) > 0.8
    assert costs.cold_fraction(10_000_000) < 1e-6


def test_api_gateway_tiers() -> None:
    assert math.isclose(costs.api_gateway(1e6), 3.50)
    assert math.isclose(costs.api_gateway(400e6), 333 * 3.50 + 67 * 2.80)


def test_every_price_names_its_source() -> None:
    for name, price in costs.PRICES.items():
        assert price.dollars > 0 and price.source and price.unit, name
