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

Required = Annotated[str, Field(min_length=1)]


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Required in every stage, no defaults: a stage that forgot one must not quietly use
    # another stage's resources (the local bus, say).
    table_name: Required
    event_bus_name: Required
    stream_failure_queue: Required
    sender_email: Required
    admin_token: str | None = None
    admin_token_parameter: str | None = None
    signing_key: str | None = None
    signing_key_parameter: str | None = None
    # Where email links point (the API's public URL); no default, so a stage that forgot it
    # fails loudly instead of mailing links to localhost.
    public_base_url: str | None = None
    # The account's SES sending rate (emails/s); staff emails are paced to their share of it
    # (event_sources.StaffSending). Unset locally and in tests: no pacing.
    ses_max_send_rate: Annotated[float, Field(gt=0)] | None = None
    # Days after its seating that a reservation keeps its guest's name, email, phone and notes
    # (services.guest_details); then only the counts stay.
    guest_data_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90

    @property
    def served_over_https(self) -> bool:
        """Whether browsers reach the API over HTTPS: every stage but `local`, whose URL is
        plain http://127.0.0.1 (unset, as before a first deploy writes it: HTTPS, as in AWS)."""
        return not (self.public_base_url or "").startswith("http://")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """The settings from `env` (each field from its upper-case variable); MissingSettings
        names every required variable not set."""
        fields = cls.model_fields
        missing = [
            n.upper() for n, f in fields.items() if f.is_required() and not env.get(n.upper())
        ]
        if missing:
            raise MissingSettings(
                f"set {', '.join(missing)} in the stage's environment_variables "
                "(.chalice/config.json)"
            )
        return cls(**{name: env[name.upper()] for name in fields if env.get(name.upper())})


class MissingSettings(RuntimeError):
    """A stage's environment lacks a required variable (a deployment mistake, not input)."""


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
