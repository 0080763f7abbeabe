"""The Lambda zip `make package` builds, and what dominates it."""

from __future__ import annotations

import tempfile
import zipfile
from collections import Counter
from pathlib import Path

from bench.common import Table, bench_environment


def run() -> Table:
    from infra.package import package

    bench_environment()
    with tempfile.TemporaryDirectory() as workdir:
        archive = package("prod", Path(workdir) / "prod").parent / "deployment.zip"
        size = archive.stat().st_size
        compressed: Counter[str] = Counter()
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                top = info.filename.split("/", 1)[0]
                top = top.split("-")[0] if top.endswith(".dist-info") else top
                compressed[top] += info.compress_size
    table = Table(
        "Lambda package (deployment.zip from make package)", ["part", "MB zipped", "share"]
    )
    table.add("**total**", f"{size / 1e6:.2f}", "100%")
    for part, n in compressed.most_common(8):
        table.add(part, f"{n / 1e6:.2f}", f"{100 * n / size:.0f}%")
    table.notes.append(
        "target: under 20 MB zipped (Babel's CLDR data, for the emails' dates, is ~10 MB);"
        " boto3 and botocore come with the Lambda runtime"
    )
    table.notes.append(
        "includes bytecode (.pyc) for the runtime's Python: see the cold-start table"
    )
    return table


if __name__ == "__main__":
    print(run().text())  # noqa: T201
