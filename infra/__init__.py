"""Deploy-side code (never shipped): the resources template, packaging, IAM, the deploy
script. `ROOT` is the repository's root, for every dev tool (infra, localdev, bench, tests)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
