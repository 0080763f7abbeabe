"""`python -m ops`: what waits in a stage's failure destinations, and bringing it back.

    python -m ops status  --stage local          # exit 0: nothing waits; 1: something does
    python -m ops recover --stage dev --dry-run  # failed stream batches, published again
    python -m ops redrive --stage dev            # staff-notification DLQ and events DLQ
    python -m ops reindex --stage prod --dry-run # old reservations into the due index

`--stage local` is the emulator a running `make run` started; `dev` and `prod` use your AWS
profile (`--profile` or AWS_PROFILE) and region, as `python -m infra.deploy` does.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TextIO

from infra import ROOT
from ops import failures, reindex
from ops.stage import STAGES, OpsError, Stage, connect, explain


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = _parse(argv)
    import botocore.exceptions

    try:
        stage = connect(args.stage, args.project_dir, args.profile)
        return int(_COMMANDS[args.command](stage, args, out))
    except OpsError as error:
        sys.stderr.write(f"ops: {error}\n")
        return 2
    except botocore.exceptions.ClientError as error:
        sys.stderr.write(f"ops: {explain(error, 'a resource of the stage')}\n")
        return 2
    except botocore.exceptions.EndpointConnectionError as error:
        sys.stderr.write(f"ops: cannot reach AWS: {error}\n")
        return 2


def status(stage: Stage, args: argparse.Namespace, out: TextIO) -> int:
    now = datetime.now(UTC)
    out.write(f"stage {stage.name} ({stage.session.region_name})\n")
    waiting = failures.status(stage, now)
    for place in waiting:
        age = f", oldest {_ago(now, place.oldest)}" if place.oldest else ""
        out.write(f"  {place.name:<26} {place.count} waiting{age}\n")
        for note in place.notes:
            out.write(f"  {'':<26} {note}\n")
    firing = failures.alarms_firing(stage)
    if stage.name == "local":
        out.write(f"  {'alarms':<26} (none on the emulator: it skips the template's alarms)\n")
    elif firing is None:
        out.write(f"  {'alarms':<26} (could not read CloudWatch)\n")
    else:
        out.write(f"  {'alarms':<26} {', '.join(firing) or 'none in ALARM'}\n")
    counts = {p.name: p.count for p in waiting}
    commands = []
    if counts["stream on-failure bucket"] or counts["stream failure queue"]:
        commands.append("recover")
    if counts["staff-notification DLQ"] or counts["events DLQ"]:
        commands.append("redrive")
    if commands or firing:
        todo = " and ".join(
            f"python -m ops {c} --stage {stage.name} --dry-run, then without --dry-run"
            for c in commands
        )
        out.write(f"needs action: {todo or 'see the alarms'} (docs/operations.md)\n")
        return 1
    out.write("nothing waits\n")
    return 0


def recover(stage: Stage, args: argparse.Namespace, out: TextIO) -> int:
    @cache
    def relay() -> Any:
        from chalicelib.wiring import bootstrap

        bootstrap.reset()
        return bootstrap.wiring().stream_relay

    verb = "would recover" if args.dry_run else "recovering"
    out.write(f"{verb} failed stream batches of stage {stage.name}\n")
    outcome = failures.Recovery(
        stage, relay, out, dry_run=args.dry_run, discard_lost=args.discard_lost
    ).run()
    out.write(
        f"{outcome.recovered} recovered, {outcome.kept} kept, {outcome.lost} lost"
        f"{f' ({outcome.discarded} discarded)' if outcome.discarded else ''}\n"
    )
    return 1 if outcome.kept or outcome.lost > outcome.discarded else 0


def redrive(stage: Stage, args: argparse.Namespace, out: TextIO) -> int:
    out.write(f"{'would redrive' if args.dry_run else 'redriving'} DLQs of stage {stage.name}\n")
    failures.redrive_staff_notifications(stage, out, dry_run=args.dry_run)
    failures.redrive_events(stage, out, dry_run=args.dry_run)
    return 0


def reindex_reservations(stage: Stage, args: argparse.Namespace, out: TextIO) -> int:
    verb = "would index" if args.dry_run else "indexing"
    out.write(f"{verb} reservations stored without their due-index keys, stage {stage.name}\n")
    done = reindex.Reindexed()
    try:
        reindex.reindex(stage, out, dry_run=args.dry_run, done=done)
    finally:  # stopped part-way (Ctrl-C, an AWS error), what was done is said: run it again
        parts = ", ".join(f"{n} under {part}" for part, n in sorted(done.indexed.items()))
        meanwhile = (
            "" if args.dry_run else f", {done.changed_meanwhile} changed meanwhile (left to "
            "their own write)"
        )  # fmt: skip
        out.write(
            f"{sum(done.indexed.values())} {'to index' if args.dry_run else 'indexed'}"
            f"{f' ({parts})' if parts else ''}, {done.nothing_to_index} without guest details"
            f" (left out){meanwhile}, {len(done.unreadable)} unreadable\n"
        )
    return 1 if done.unreadable else 0


_COMMANDS = {
    "status": status,
    "recover": recover,
    "redrive": redrive,
    "reindex": reindex_reservations,
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m ops", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=sorted(_COMMANDS))
    parser.add_argument("--stage", required=True, choices=STAGES)
    parser.add_argument("--profile", help="AWS profile for dev/prod (default: AWS_PROFILE)")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen only")
    parser.add_argument(
        "--discard-lost", action="store_true",
        help="recover: delete batch-info records whose records have left the stream",
    )  # fmt: skip
    parser.add_argument(
        "--project-dir", type=lambda v: Path(v).resolve(), default=ROOT,
        help="the project whose `make run` to use for --stage local",
    )  # fmt: skip
    return parser.parse_args(argv)


def _ago(now: datetime, then: datetime) -> str:
    seconds = int((now - then).total_seconds())
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min ago"


if __name__ == "__main__":
    sys.exit(main())
