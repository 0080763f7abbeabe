"""The restaurant's language: reservations and their status machine (`reservations`),
restaurants' settings (`restaurants`) and what they mean for a booking (`booking_rules`),
business events (`events`), ids and manage tokens (`ids`, `tokens`), errors (`errors`).

May import: the standard library and pydantic. Never boto3, botocore, chalice, Powertools,
nor any other package of chalicelib (checked by tests/unit/test_import_boundaries.py)."""
