"""`make package STAGE=prod`: one deployable template and the Lambda zip in dist/<stage>/.

Runs `chalice package --merge-template` with a merge template built here from
infra/resources.yaml (the resources Chalice does not create) and chalicelib/wiring/event_sources.py
(the mapping settings Chalice's decorators cannot express), so the stream mapping points at the
table in the same template and every setting has one source.

Chalice merges dicts deeply and replaces lists and scalars: overrides here only add or replace
keys of the event sources and functions Chalice generated, and never touch a role's `Policies`
list (that would replace the policy from `.chalice/policy-<stage>-<function>.json`).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from chalicelib.wiring.event_sources import (
    DAILY_SUMMARY,
    EXPIRY_HANDLER,
    GUEST_NOTIFICATIONS,
    RESERVATION_STREAM,
    RETENTION_HANDLER,
    STAFF_NOTIFICATIONS,
    BusSubscription,
    queue_template_parameters,
    rule_template_parameters,
)
from infra import ROOT
from infra.names import function_name, stack_name
from infra.stages import api_throttling, staff_sending

RESOURCES = ROOT / "infra" / "resources.yaml"
_SHORT_FORMS = (
    "Ref", "Sub", "GetAtt", "If", "Equals", "Not", "And", "Or", "Join", "Select", "Split",
    "FindInMap", "Base64", "ImportValue", "GetAZs", "Condition",
)  # fmt: skip


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Ref, !GetAtt a.b, ...)."""


def _intrinsic(tag: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        name = "Ref" if tag in ("Ref", "Condition") else f"Fn::{tag}"
        if tag == "Condition":
            name = "Condition"
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            assert isinstance(node, yaml.MappingNode)
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in _SHORT_FORMS:
    _CfnLoader.add_constructor(f"!{_tag}", _intrinsic(_tag))


def load_resources() -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(RESOURCES.read_text(), Loader=_CfnLoader)  # noqa: S506
    return template


def logical_id(function: str) -> str:
    """Chalice's resource name: publish_reservation_events -> PublishReservationEvents."""
    return "".join(part.capitalize() for part in function.split("_"))


def _get_att(resource: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [resource, attribute]}


def _subscription(subscription: BusSubscription) -> dict[str, Any]:
    return {
        "Properties": {
            "Events": {
                f"{logical_id(subscription.handler)}Event": {
                    "Type": "EventBridgeRule",
                    "Properties": {
                        "EventBusName": _get_att("EventBus", "Name"),
                        "RetryPolicy": subscription.rule_retry_policy,
                        "DeadLetterConfig": {
                            "Arn": _get_att(subscription.dead_letter_queue, "Arn")
                        },
                    },
                }
            },
            "EventInvokeConfig": {
                "MaximumRetryAttempts": subscription.maximum_retry_attempts,
                "MaximumEventAgeInSeconds": subscription.maximum_event_age_seconds,
                "DestinationConfig": {
                    "OnFailure": {
                        "Type": "SQS",
                        "Destination": _get_att(subscription.dead_letter_queue, "Arn"),
                    }
                },
            },
        }
    }


def function_overrides(stage: str) -> dict[str, Any]:
    """What Chalice's generated functions need beyond their decorators. Functions get the
    names `chalice deploy` gives them, so the alarms in resources.yaml fit both paths."""
    stream = RESERVATION_STREAM
    stream_settings = stream.lambda_settings()
    public_url = {"Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"}
    overrides: dict[str, Any] = {
        logical_id(stream.handler): {
            "Properties": {
                "Events": {
                    f"{logical_id(stream.handler)}DynamodbEventSource": {
                        "Properties": {
                            **stream_settings,
                            "Stream": _get_att("ReservationsTable", "StreamArn"),
                            "StartingPosition": stream.starting_position,
                            "DestinationConfig": {
                                "OnFailure": {
                                    "Destination": _get_att(stream.on_failure_destination, "Arn")
                                }
                            },
                        }
                    }
                }
            }
        },
        logical_id(STAFF_NOTIFICATIONS.handler): {
            "Properties": {
                "Events": {
                    f"{logical_id(STAFF_NOTIFICATIONS.handler)}SqsEventSource": {
                        "Properties": STAFF_NOTIFICATIONS.lambda_settings(staff_sending(stage))
                    }
                },
            }
        },
        logical_id(GUEST_NOTIFICATIONS.handler): _subscription(GUEST_NOTIFICATIONS),
        logical_id(DAILY_SUMMARY.handler): _subscription(DAILY_SUMMARY),
        # The schedule's rule is Chalice's own; only the name the alarms watch is added.
        logical_id(EXPIRY_HANDLER): {"Properties": {}},
        logical_id(RETENTION_HANDLER): {"Properties": {}},
    }
    for function in (STAFF_NOTIFICATIONS.handler, GUEST_NOTIFICATIONS.handler):
        properties = overrides[logical_id(function)]["Properties"]
        properties["Environment"] = {"Variables": {"PUBLIC_BASE_URL": public_url}}
    for function, override in overrides.items():
        override["Properties"]["FunctionName"] = function_name(stage, chalice_name(function))
    overrides["APIHandler"] = {"Properties": {"FunctionName": stack_name(stage)}}
    # Chalice names the API function's log group after `${ApiHandler}`, a resource it calls
    # APIHandler: point it at the function (its `log_retention_in_days`, infra/stages.py).
    overrides["ApiHandlerLogGroup"] = {
        "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"}}
    }
    return overrides


def chalice_name(logical: str) -> str:
    """PublishReservationEvents -> publish_reservation_events."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in logical).lstrip("_")


def replacements() -> list[tuple[list[str], Any]]:
    """Values to set after merging: Chalice writes these as intrinsic dicts (Fn::Sub), and a
    deep merge would put a second function into the same dict instead of replacing it."""
    function = logical_id(STAFF_NOTIFICATIONS.handler)
    return [
        (
            ["Resources", function, "Properties", "Events", f"{function}SqsEventSource",
             "Properties", "Queue"],
            _get_att(STAFF_NOTIFICATIONS.queue, "Arn"),
        ),
    ]  # fmt: skip


def apply_replacements(template: dict[str, Any]) -> dict[str, Any]:
    for path, value in replacements():
        node = template
        for key in path[:-1]:
            node = node[key]  # a KeyError here means Chalice's naming changed: fail loudly
        node[path[-1]] = value
    return template


def resource_parameters(stage: str) -> dict[str, str]:
    """The resources template's parameters that come from code, for every deploy path."""
    return {"Stage": stage, **rule_template_parameters(), **queue_template_parameters()}


def merge_template(stage: str) -> dict[str, Any]:
    resources = load_resources()
    parameters = resources["Parameters"]
    for name, value in resource_parameters(stage).items():
        parameters[name]["Default"] = value
    functions = function_overrides(stage)
    overlapping = set(resources["Resources"]) & set(functions)
    assert not overlapping, f"resource names clash with Chalice's: {overlapping}"
    # Chalice's REST API (its stage is the Serverless::Api's): the stage's throttling.
    api = {"RestAPI": {"Properties": {"MethodSettings": api_throttling(stage).method_settings()}}}
    return {
        "Parameters": parameters,
        "Conditions": resources.get("Conditions", {}),
        "Resources": {**resources["Resources"], **functions, **api},
        "Outputs": resources.get("Outputs", {}),
    }


def package(stage: str, out: Path, architecture: str | None = None) -> Path:
    """Write dist/<stage>/{merge.json, sam.json, deployment.zip}; returns sam.json.

    `architecture` overrides the stage's `lambda_architecture` (the benchmarks import the zip
    on this machine, so they build it for its own: x86_64 wheels in place of aarch64)."""
    out.mkdir(parents=True, exist_ok=True)
    merge = out.parent / f"{stage}-merge.json"
    merge.write_text(json.dumps(merge_template(stage), indent=2))
    chalice = Path(sys.executable).parent / "chalice"
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    with tempfile.TemporaryDirectory() as copy:
        project = ROOT if architecture is None else _project_for(stage, architecture, Path(copy))
        subprocess.run(
            [str(chalice), "package", "--stage", stage, "--merge-template", str(merge),
             str(out.resolve())],
            cwd=project,
            env=env,
            check=True,
        )  # fmt: skip
    sam = out / "sam.json"
    sam.write_text(json.dumps(apply_replacements(json.loads(sam.read_text())), indent=2))
    add_bytecode(out / "deployment.zip")
    return sam


def _project_for(stage: str, architecture: str, directory: Path) -> Path:
    """A copy of what Chalice packages, the stage set to `architecture`."""
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, directory / name)
    shutil.copytree(ROOT / "chalicelib", directory / "chalicelib",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copytree(ROOT / ".chalice", directory / ".chalice",
                    ignore=shutil.ignore_patterns("deployed"))  # fmt: skip
    config_path = directory / ".chalice" / "config.json"
    config = json.loads(config_path.read_text())
    config["stages"][stage]["lambda_architecture"] = architecture
    config_path.write_text(json.dumps(config, indent=2))
    return directory


def this_machine_architecture() -> str:
    """Lambda's name for the architecture this interpreter runs on."""
    import platform

    return "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"


def compile_tree(directory: Path) -> None:
    """Bytecode for every module, valid without checking sources (the code cannot change)."""
    compileall.compile_dir(
        str(directory), quiet=1, workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )  # fmt: skip


def add_bytecode(archive: Path) -> None:
    """Ship bytecode: Lambda's code directory is read-only, so without it every cold start
    compiles the package again (about 180 ms measured here, see docs/performance.md). Only
    when this interpreter is the runtime's Python (the bytecode format changes per minor)."""
    runtime = json.loads((ROOT / ".chalice" / "config.json").read_text()).get("lambda_runtime")
    if runtime not in (None, f"python{sys.version_info.major}.{sys.version_info.minor}"):
        raise SystemExit(f"bytecode would be built by Python {sys.version_info[:2]} for {runtime}")
    with tempfile.TemporaryDirectory() as unpacked:
        with zipfile.ZipFile(archive) as source:
            source.extractall(unpacked)
        compile_tree(Path(unpacked))
        rebuilt = archive.with_suffix(".tmp")
        with zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
            for path in sorted(Path(unpacked).rglob("*")):
                if path.is_file():
                    target.write(path, path.relative_to(unpacked))
        rebuilt.replace(archive)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stage", default="prod", choices=("dev", "prod"))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    template = package(args.stage, args.out or ROOT / "dist" / args.stage)
    print(f"{template} and {template.parent / 'deployment.zip'}")  # noqa: T201 - a CLI
    return 0


if __name__ == "__main__":
    sys.exit(main())
