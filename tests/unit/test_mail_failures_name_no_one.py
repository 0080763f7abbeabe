"""A send that fails says why without the addresses in it: SES's messages name them, and the
text reaches the logs (Lambda's report of a failed invocation, Powertools' batch debug line)
and the reservation's timeline."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.adapters.mailer import MailNotSent, SesMailer, without_addresses
from chalicelib.services.emails import Email

SENDER = "no-reply@reservations.example"


def email_to(*to: str) -> Email:
    return Email(to=to, subject="s", text="t", html="<p>t</p>", reservation_id="r", event_id="e")


class RefusingSes:
    def send_raw_email(self, **request: Any) -> dict[str, str]:
        names = ", ".join(request["Destinations"])
        message = f"Email address is not verified. The following identities failed: {names}"
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": message}}, "Send")


def test_ses_refusing_an_address_is_reported_without_it() -> None:
    with pytest.raises(MailNotSent) as raised:
        SesMailer(RefusingSes(), SENDER).send(email_to("ada.private@example.com", "b@x.example"))
    text = str(raised.value)
    assert text.startswith("ClientError: An error occurred (MessageRejected)")
    assert "failed: <address>, <address>" in text and "@" not in text
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_an_address_mail_cannot_reach_is_reported_without_it() -> None:
    with pytest.raises(MailNotSent, match="UndeliverableAddress: cannot deliver to '<address>'"):
        SesMailer(RefusingSes(), SENDER).send(email_to("élodie@example.com"))


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("sent to ada@example.com today", "sent to <address> today"),
        ("<ada+x@example.com>, 'b@xn--caf-dma.example'", "<<address>>, '<address>'"),
        ("no address here", "no address here"),
    ],
)
def test_without_addresses(text: str, said: str) -> None:
    assert without_addresses(text) == said
