"""Use cases over the domain: the booking desk and restaurant administration (`booking`), the
notifiers and daily totals (`notifications`) with their email content (`emails`), and the
ports they need (`ports`: a store per aggregate, and the mailer).

May import: domain, and `web.links`/`web.routes` for the URLs emails carry. Never boto3 or
chalice: adapters are handed in by `wiring.bootstrap`."""
