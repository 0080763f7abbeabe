"""What a Lambda cold start pays: a fresh interpreter importing the handler module and serving
its first request (and, for the app, its first stream batch), from the real deployment.zip
unpacked as Lambda's read-only code directory (sources only: nothing can write bytecode).

Variants, interleaved: the floor (a bare Chalice app with one route, `import boto3` and a small
pydantic model), this app, this app creating its boto3 clients at import, and this app with
bytecode compiled into the package (`compileall --invalidation-mode unchecked-hash`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench.common import Table, bench_environment, interleaved, median
from infra import ROOT
from infra.package import compile_tree

FLOOR_APP = """
import boto3
from chalice import Chalice
from pydantic import BaseModel

class Reservation(BaseModel):
    name: str
    party_size: int

app = Chalice(app_name="floor")

@app.route("/restaurants/{restaurant_id}")
def profile(restaurant_id):
    return Reservation(name=restaurant_id, party_size=2).model_dump()
"""

CHILD = """
import json, sys, time
started = time.perf_counter()
import {module} as handler_module
{eager}
imported = time.perf_counter()
event = {{"resource": "/restaurants/{{restaurant_id}}", "path": "/restaurants/demo-bistro",
         "httpMethod": "GET", "headers": {{}}, "multiValueHeaders": {{}},
         "queryStringParameters": None, "multiValueQueryStringParameters": None,
         "pathParameters": {{"restaurant_id": "demo-bistro"}}, "stageVariables": None,
         "requestContext": {{"resourcePath": "/restaurants/{{restaurant_id}}",
                             "httpMethod": "GET", "stage": "api"}}, "body": None,
         "isBase64Encoded": False}}
response = handler_module.app(event, None)
served = time.perf_counter()
assert response["statusCode"] in (200, 404), response
{stream}
done = time.perf_counter()
print(json.dumps({{"import": imported - started, "first_request": served - imported,
                  "first_batch": done - served,
                  "peak_rss_mb": [int(line.split()[1]) / 1024 for line in open("/proc/self/status")
                                  if line.startswith("VmHWM")][0]}}))
"""

EAGER = """
from chalicelib.wiring import bootstrap
for service in ("dynamodb", "ssm", "events", "sqs", "ses"):
    bootstrap.wiring().client(service)
"""

STREAM = """
from bench.stream_throughput import records
batch = {"Records": records(1)}
assert handler_module.publish_reservation_events(batch, None) == {"batchItemFailures": []}
"""


def _unpack(zip_path: Path, target: Path, compiled: bool) -> Path:
    """The zip as Lambda unpacks it; without bytecode unless `compiled`."""
    target.mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(target)
    (target / "floor_app.py").write_text(FLOOR_APP)
    for cached in list(target.rglob("__pycache__")):
        if not compiled:
            shutil.rmtree(cached)
    if compiled:
        compile_tree(target)
    return target


def run(runs: int = 5, endpoint: str | None = None) -> Table:
    from infra.package import package, this_machine_architecture
    from localdev.emulator import Emulator, EndpointSession, free_port
    from localdev.provision import provision

    bench_environment()
    workdir = Path(tempfile.mkdtemp(prefix="coldstart-"))
    emulator = None
    try:
        # Built for this machine (the shipped zip is arm64): the benchmark imports it here.
        sam = package("prod", workdir / "dist", this_machine_architecture())
        sources = _unpack(sam.parent / "deployment.zip", workdir / "code", compiled=False)
        compiled = _unpack(sam.parent / "deployment.zip", workdir / "code-pyc", compiled=True)
        if endpoint is None:
            emulator = Emulator(port=free_port())
            emulator.start()
            endpoint = emulator.endpoint
        provision(EndpointSession(endpoint), stage="bench")
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": endpoint,
            "TABLE_NAME": "reservations-bench",
            "EVENT_BUS_NAME": "reservations-bench",
            "STREAM_FAILURE_QUEUE": "reservations-bench-stream-failures",
            "SENDER_EMAIL": "reservations@demo-bistro.example",
        }
        root = ROOT

        def child(code_dir: Path, module: str, eager: bool = False, stream: bool = False) -> Any:
            script = CHILD.format(
                module=module, eager=EAGER if eager else "", stream=STREAM if stream else ""
            )
            # Lambda puts the code directory first; boto3 comes from the runtime (here: venv).
            child_env = {**env, "PYTHONPATH": f"{code_dir}{os.pathsep}{root}"}
            command = [sys.executable, "-B", "-c", script]
            output = subprocess.run(
                command, cwd=code_dir, env=child_env, capture_output=True, text=True, check=True
            )
            return json.loads(output.stdout.strip().splitlines()[-1])

        results = interleaved(
            runs,
            lambda: child(sources, "floor_app"),
            lambda: child(sources, "app", stream=True),
            lambda: child(sources, "app", eager=True),
            lambda: child(compiled, "app", stream=True),
            lambda: child(compiled, "floor_app"),
        )
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return _table(results, runs)


def _table(results: list[list[Any]], runs: int) -> Table:
    floor, app, eager, app_pyc, floor_pyc = results

    def ms(samples: list[Any], key: str) -> float:
        return median([s[key] for s in samples]) * 1000

    floor_import = ms(floor, "import")
    table = Table(
        "Cold start (fresh interpreter, the deployment.zip as Lambda's read-only code dir)",
        ["variant", "import ms", "× floor", "first request ms", "first batch ms", "peak RSS MB"],
    )
    for name, samples, batch in (
        ("floor: Chalice + boto3 + pydantic model", floor, False),
        ("this app (clients created lazily)", app, True),
        ("this app, boto3 clients created at import", eager, False),
        ("this app, bytecode in the zip (make package ships it)", app_pyc, True),
        ("floor, bytecode shipped", floor_pyc, False),
    ):
        table.add(
            name,
            f"{ms(samples, 'import'):.0f}",
            f"{ms(samples, 'import') / floor_import:.2f}",
            f"{ms(samples, 'first_request'):.0f}",
            f"{ms(samples, 'first_batch'):.0f}" if batch else "–",
            f"{median([s['peak_rss_mb'] for s in samples]):.0f}",
        )
    saved = ms(app, "import") - ms(app_pyc, "import")
    table.notes.append(
        f"median of {runs} interleaved runs; first request: GET of a restaurant (one DynamoDB "
        "GetItem on the emulator, which creates the first client)"
    )
    table.notes.append(f"shipping bytecode saves {saved:.0f} ms of import per cold start")
    return table


if __name__ == "__main__":
    print(run().text())  # noqa: T201
