"""`make run`: the whole service on this machine, no AWS account, no Docker.

Starts the embedded AWS emulator, provisions the resources from infra/resources.yaml, seeds
the demo restaurant, serves the API with `chalice local --stage local`, runs every event
handler with Lambda's event-source semantics, and keeps a mail outbox. Ctrl-C stops it all.

    python -m localdev.run                 # everything
    python -m localdev.run --no-api        # all but the API; run `chalice local --stage local`
                                           # yourself in a second terminal

State: the emulator's AWS profile goes to `<project>/.localdev/aws/` (where the local stage's
AWS_CONFIG_FILE points); mail files go outside the project (`--outbox-dir`), because
`chalice local` restarts on any file change under the project. Tests and benchmarks pass a
throwaway `--project-dir` (see `localdev.provision.scratch_project`), never the working copy.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

from infra import ROOT
from infra.stages import use_stage_environment
from localdev.binding import DEMO_ID, ReservationsApp, seed_demo
from localdev.console import Console
from localdev.emulator import Emulator, EndpointSession, write_aws_profile
from localdev.faults import parse_faults
from localdev.outbox import serve
from localdev.provision import provision, store_secrets
from localdev.runtime import LocalRuntime


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    ports = (args.aws_port, args.api_port, args.outbox_port)
    busy = [port for port in ports if _in_use(args.host, port)]
    if args.no_api:
        busy = [port for port in busy if port != args.api_port]
    if busy:
        print(
            f"Port {', '.join(map(str, busy))} on {args.host} is already in use: is `make run` "
            "already running in another terminal? Stop it with Ctrl-C there, or choose other "
            "ports with LOCAL_API_PORT / LOCAL_AWS_PORT / LOCAL_OUTBOX_PORT.",
            file=sys.stderr,
        )
        return 1
    try:
        faults = parse_faults(os.environ.get("LOCAL_FAULTS", ""))
    except ValueError as error:
        print(f"LOCAL_FAULTS: {error}", file=sys.stderr)
        return 2
    with _lifetime() as stopping:
        emulator = Emulator(args.host, args.aws_port)
        started = time.monotonic()
        emulator.start()
        # This process runs the handlers as the local stage; `chalice local` reads the same
        # profile, written where the stage's variables say.
        use_stage_environment("local", args.project_dir)
        os.environ["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOCAL_HANDLER_LOG_LEVEL", "WARNING")
        write_aws_profile(os.environ, emulator.endpoint)
        os.environ["PUBLIC_BASE_URL"] = f"http://{args.host}:{args.api_port}"  # email links
        session = EndpointSession(emulator.endpoint)
        tokens, outputs = _prepare(emulator, session)
        app = ReservationsApp()
        console = Console(words=app)
        runtime = LocalRuntime(
            session, outputs, console, args.outbox_dir, app, emulator.sent_mail,
            os.environ.get("LOCAL_FAULTS", ""),
        )  # fmt: skip
        try:
            runtime.start()
        except ValueError as error:  # a handler crash named for a handler the app lacks
            print(f"LOCAL_FAULTS: {error}", file=sys.stderr)
            emulator.stop()
            return 2
        outbox = serve(runtime.outbox, args.host, args.outbox_port, faults=runtime)
        api = None if args.no_api else _start_api(args.host, args.api_port, args.project_dir)
        _banner(args, emulator, tokens, faults, runtime.handlers, time.monotonic() - started)
        try:
            while not stopping.is_set():
                if api is not None and api.poll() is not None:
                    print(f"chalice local exited with status {api.returncode}", file=sys.stderr)
                    return api.returncode or 1
                stopping.wait(0.5)
        finally:
            if api is not None:
                _stop(api)
            runtime.stop()
            outbox.shutdown()
            emulator.stop()
            print("Stopped: API and emulator are down.")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--api-port", type=int, default=int(os.environ.get("LOCAL_API_PORT", 8000)))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("LOCAL_AWS_PORT", 4566)))
    parser.add_argument(
        "--outbox-port", type=int, default=int(os.environ.get("LOCAL_OUTBOX_PORT", 8025))
    )
    parser.add_argument("--no-api", action="store_true", help="do not start chalice local")
    parser.add_argument(
        "--project-dir",
        type=lambda value: Path(value).resolve(),
        default=ROOT,
        help="the Chalice project to serve; its .localdev/aws/ gets the emulator's profile",
    )
    parser.add_argument(
        "--outbox-dir",
        type=Path,
        default=os.environ.get("LOCAL_OUTBOX_DIR"),
        help="where .eml files go (default: a folder named after the outbox port in the "
        "system's temporary directory, outside the project)",
    )
    args = parser.parse_args(argv)
    if args.outbox_dir is None:
        args.outbox_dir = Path(tempfile.gettempdir()) / f"reservations-outbox-{args.outbox_port}"
    return args


def _prepare(emulator: Emulator, session: EndpointSession) -> tuple[dict[str, str], dict[str, str]]:
    """Point this process and `chalice local` at the emulator, provision, seed."""
    outputs = provision(session, parameters={"NotificationVisibilityTimeout": "5"})
    tokens = {
        "admin": os.environ.get("LOCAL_ADMIN_TOKEN") or "adm_" + secrets.token_urlsafe(24),
        "staff": os.environ.get("LOCAL_STAFF_TOKEN") or "stf_" + secrets.token_urlsafe(24),
        "signing": os.environ.get("LOCAL_SIGNING_KEY") or secrets.token_urlsafe(32),
    }
    store_secrets(session, "local", tokens["admin"], tokens["signing"])
    seed_demo(session.client("dynamodb"), outputs["TableName"], tokens["staff"])
    return tokens, outputs


def _start_api(host: str, port: int, project_dir: Path) -> subprocess.Popen[bytes]:
    # Chalice's own `chalice local`, with a listen backlog deep enough for a burst of clients
    # (localdev.api_server). No autoreload: the event handlers (run by this process) would not
    # reload anyway, and an API newer than its handlers misleads: restart `make run` after
    # changing code.
    command = [
        sys.executable,
        "-m",
        "localdev.api_server",
        "local",
        "--stage",
        "local",
        "--host",
        host,
        "--port",
        str(port),
        "--no-autoreload",
    ]
    # The local stage reads its secrets from the emulator's SSM, like AWS stages; a direct
    # ADMIN_TOKEN or SIGNING_KEY left in the shell would win over them, so drop those.
    env = {k: v for k, v in os.environ.items() if k not in {"ADMIN_TOKEN", "SIGNING_KEY"}}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return subprocess.Popen(command, cwd=project_dir, env=env, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def _lifetime() -> Iterator[threading.Event]:
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def chalice_local_command(host: str, port: int) -> str:
    """What to type for the API beside `--no-api`, on the port the email links point at."""
    words = [".venv/bin/chalice", "local", "--stage", "local"]
    if host != "127.0.0.1":
        words += ["--host", host]
    if port != 8000:
        words += ["--port", str(port)]
    return " ".join(words)


def _banner(
    args: argparse.Namespace,
    emulator: Emulator,
    tokens: dict[str, str],
    faults: dict[tuple[str, str], float],
    handlers: list[str],
    took: float,
) -> None:
    api = f"http://{args.host}:{args.api_port}"
    lines = [
        "",
        "Reservations service, running locally (stage 'local')",
        f"  API            {api}" + ("  (not started: --no-api)" if args.no_api else ""),
        f"  AWS emulator   {emulator.endpoint}",
        f"  mail outbox    http://{args.host}:{args.outbox_port}/  (JSON: /messages.json; "
        f"files: {args.outbox_dir}/)",
        f"  event handlers {', '.join(handlers)}",
        f"  demo restaurant {DEMO_ID}: {api}/restaurants/{DEMO_ID}",
        f"  admin token    {tokens['admin']}",
        f"  staff token    {tokens['staff']}   (staff of {DEMO_ID})",
    ]
    if faults:
        shown = ", ".join(f"{s}:{o}={rate}" for (s, o), rate in faults.items())
        lines.append(f"  FAULTS         {shown}")
    if args.no_api:
        lines.append(f"  In another terminal: {chalice_local_command(args.host, args.api_port)}")
    lines.append(f"  ready in {took:.1f}s. Ctrl-C stops everything.")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    sys.exit(main())
