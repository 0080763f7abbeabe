"""Typed settings from the environment (each stage sets them in .chalice/config.json).

Secrets come either directly (ADMIN_TOKEN, SIGNING_KEY: handy in tests) or, as in AWS, from
SSM Parameter Store SecureString parameters named by ADMIN_TOKEN_PARAMETER and
SIGNING_KEY_PARAMETER, read once on first use.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, NoReturn

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


LOCAL_HOWTO = "`make run --no-api` in one terminal, then `chalice local --stage local`"


def local_server_problem(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """Under `chalice local`, why this stage cannot serve a single request, in one line (so
    the server refuses to start instead of answering every request with a 500); else None."""
    if not environ.get("AWS_CHALICE_CLI_MODE") or "local" not in argv[1:]:
        return None
    import botocore.exceptions
    import botocore.session

    try:
        region = botocore.session.Session().get_config_variable("region")
    except botocore.exceptions.ProfileNotFound as error:
        return f"chalice local: {error}; is the emulator running? Start {LOCAL_HOWTO}."
    if not region:
        return (
            "chalice local: this stage lives in AWS and no AWS region is configured; "
            f"for the local emulator run {LOCAL_HOWTO}."
        )
    return None


def refuse_to_serve(problem: str) -> NoReturn:
    """End `chalice local` with `problem` as its one line. `os._exit`, because with autoreload
    Chalice imports the app in a server thread, where SystemExit would be silently ignored."""
    sys.stderr.write(problem + "\n")
    sys.stderr.flush()
    os._exit(1)
