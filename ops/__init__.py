"""Operator tools (never shipped in the Lambda package): `python -m ops status | recover |
redrive --stage local|dev|prod`. See docs/operations.md."""
