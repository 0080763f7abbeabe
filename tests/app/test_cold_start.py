"""What a cold start of the API imports: the emails' heavy helpers stay out until a consumer
writes its first email."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from infra import ROOT

# A fresh interpreter (this one has imported everything already), as Lambda starts one.
PROBE = """
import json, sys
import app
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {"babel", "icalendar"})))
from chalicelib.services import emails
emails._locale("fr", "Europe/Paris")
print(json.dumps("babel" in sys.modules))
"""


def test_the_api_does_not_import_babel_and_an_email_does() -> None:
    env = {
        **os.environ,
        "TABLE_NAME": "reservations-test",
        "EVENT_BUS_NAME": "reservations-test",
        "STREAM_FAILURE_QUEUE": "reservations-test-stream-failures",
        "SENDER_EMAIL": "no-reply@reservations.test",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    at_import, after_an_email = result.stdout.splitlines()
    assert json.loads(at_import) == []
    assert json.loads(after_an_email) is True
