"""Query strings and small bodies of the REST API (the big bodies live with their domain)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.domain.contact import no_control_characters
from chalicelib.domain.reservations import Status

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_date(value: Any) -> dt.date:
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a calendar date") from None


class AvailabilityQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    party_size: Annotated[int, Field(ge=1, le=1000)]

    @field_validator("date", mode="before")
    @classmethod
    def _calendar_date(cls, value: Any) -> dt.date:
        return _iso_date(value)


class DaySheetQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date
    status: list[Status] = []

    @field_validator("date", mode="before")
    @classmethod
    def _calendar_date(cls, value: Any) -> dt.date:
        return _iso_date(value)

    @field_validator("status", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value


class DayViewQuery(BaseModel):
    """The staff day view's query: the day (default today) and what was just done."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    date: dt.date | None = None
    notice: Annotated[str, Field(max_length=20)] | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _calendar_date(cls, value: Any) -> dt.date | None:
        return None if value in (None, "") else _iso_date(value)


class IssueStaffToken(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    label: Annotated[str, Field(min_length=1, max_length=100)]

    @field_validator("label")
    @classmethod
    def _one_line(cls, value: str) -> str:
        return no_control_characters(value, allow_newlines=False)


class SummaryQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: dt.date

    @field_validator("date", mode="before")
    @classmethod
    def _calendar_date(cls, value: Any) -> dt.date:
        return _iso_date(value)
