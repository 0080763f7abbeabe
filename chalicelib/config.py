"""Typed settings from the environment (each stage sets them in .chalice/config.json).

Secrets come either directly (ADMIN_TOKEN, SIGNING_KEY: handy in tests) or, as in AWS, from
SSM Parameter Store SecureString parameters named by ADMIN_TOKEN_PARAMETER and
SIGNING_KEY_PARAMETER, read once on first use.
"""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    table_name: Annotated[str, Field(min_length=1)]
    admin_token: str | None = None
    admin_token_parameter: str | None = None
    signing_key: str | None = None
    signing_key_parameter: str | None = None
    event_bus_name: str = "reservations-local"
    stream_failure_queue: str = "reservations-local-stream-failures"
    sender_email: str = "reservations@demo-bistro.example"
    # Where email links point (the API's public URL); no default, so a stage that forgot it
    # fails loudly instead of mailing links to localhost.
    public_base_url: str | None = None

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            admin_token=env.get("ADMIN_TOKEN") or None,
            admin_token_parameter=env.get("ADMIN_TOKEN_PARAMETER") or None,
            signing_key=env.get("SIGNING_KEY") or None,
            signing_key_parameter=env.get("SIGNING_KEY_PARAMETER") or None,
            **{
                name: env[name.upper()]
                for name in (
                    "event_bus_name",
                    "stream_failure_queue",
                    "sender_email",
                    "public_base_url",
                )
                if env.get(name.upper())
            },
        )
