"""The restaurant's language: reservations and their status machine, restaurants and their
booking rules, business events, ids and manage tokens, domain errors.

May import: the standard library and pydantic. Never boto3, botocore, chalice, Powertools,
nor any other package of chalicelib (checked by tests/unit/test_import_boundaries.py)."""
