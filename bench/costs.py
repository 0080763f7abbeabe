"""Dollars per reservation: the measured counts (bench/aws_calls.py: calls, units, invocations,
SQS requests, emails per reservation) and the measured durations under Lambda's CPU model
(bench/lambda_cpu.py, at the memory each function is given), priced with the list prices
below. Three designs: this service, the naive synchronous API (the handler writes, publishes
and sends the emails itself), and this service with an EventBridge Pipe in place of the
stream relay; on-demand against provisioned table capacity; 1k to 100M reservations a month.

Prices: us-east-1, read on 2026-12-01. The live aws.amazon.com pricing pages could not be
opened from here (no internet but package registries); each figure comes from the stored copy
named in its `source`, found with the project's search tool that day."""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench import aws_calls, lambda_cpu
from bench.common import Table
from chalicelib.wiring.event_sources import (
    EXPIRY_SCHEDULE_MINUTES,
    FUNCTION_MEMORY_MB,
    LAMBDA_ARCHITECTURE,
    RETENTION_HANDLER,
    RETENTION_SCHEDULE_HOURS,
)

REGION = "us-east-1 (N. Virginia)"
READ_ON = "2026-12-01"


@dataclass(frozen=True)
class Price:
    dollars: float
    unit: str
    source: str


PRICES: dict[str, Price] = {
    "api_request": Price(
        3.50e-6, "REST API request (first 333M a month; $2.80/M to 1B)",
        "AWS whitepaper 'Best Practices for Designing Amazon API Gateway Private APIs', "
        "Cost optimization, Table 4 (docs.aws.amazon.com)",
    ),
    "lambda_request": Price(
        0.20e-6, "Lambda request",
        "cloudchipr.com 'AWS Lambda Pricing Breakdown' (2024, us-east-1 tables)",
    ),
    "lambda_gb_s_arm64": Price(
        0.0000133334, "Lambda GB-second, arm64 (first 7.5B GB-s a month)",
        "cloudchipr.com 'AWS Lambda Pricing Breakdown' (2024, us-east-1 tables)",
    ),
    "lambda_gb_s_x86_64": Price(
        0.0000166667, "Lambda GB-second, x86_64 (first 6B GB-s a month)",
        "cloudchipr.com 'AWS Lambda Pricing Breakdown' (2024, us-east-1 tables)",
    ),
    "write_request_unit": Price(
        0.625e-6, "DynamoDB on-demand write request unit",
        "airbyte.com 'Amazon DynamoDB Pricing' (July 2025, after the Nov 2024 cut)",
    ),
    "read_request_unit": Price(
        0.125e-6, "DynamoDB on-demand read request unit",
        "airbyte.com 'Amazon DynamoDB Pricing' (July 2025, after the Nov 2024 cut)",
    ),
    "wcu_hour": Price(
        0.00065, "DynamoDB provisioned WCU-hour",
        "zeonedge.com 'DynamoDB cost optimization' (us-east-1)",
    ),
    "rcu_hour": Price(
        0.00013, "DynamoDB provisioned RCU-hour",
        "zeonedge.com 'DynamoDB cost optimization' (us-east-1)",
    ),
    "stream_read_request": Price(
        0.02 / 100_000, "DynamoDB Streams read request (GetRecords; free for Lambda triggers)",
        "DynamoDB Developer Guide, 'Evaluate your DynamoDB streams usage' (docs.amazonaws.cn)",
    ),
    "eventbridge_event": Price(
        1.00e-6, "EventBridge custom event put on a bus (64 KB chunk)",
        "aws.amazon.com/eventbridge/pricing as widely quoted; not read in a stored copy",
    ),
    "pipes_request": Price(
        0.40e-6, "EventBridge Pipes request (64 KB chunk, after filtering)",
        "techoral.com 'AWS EventBridge Pipes' (2026); awsnegotiations.com 'EventBridge Pipes Cost'",
    ),
    "sqs_request": Price(
        0.40e-6, "SQS standard request (64 KB chunk)",
        "factualminds.com 'Amazon SQS Pricing: the 64 KB rule'",
    ),
    "ses_email": Price(
        0.10e-3, "SES email sent ($0.10 per 1,000)",
        "build.allanninal.dev 'What the shipping notifier costs'; cloudcostkit.com SES guide",
    ),
    "alarm_month": Price(
        0.10, "CloudWatch standard alarm, a month",
        "aws.amazon.com/cloudwatch/pricing as widely quoted; not read in a stored copy",
    ),
}  # fmt: skip

# Which measured function stands for each deployed one, and per what unit of work its warm
# duration was measured (the relay: a batch of 100 records).
MEASURED_AS = {
    "api_handler": "api",
    "publish_reservation_events": "relay",
    "notify_staff": "consumer",
    "notify_guest": "consumer",
    "update_daily_summary": "summary",
    # Not measured under the CPU model: a read and a conditional write per reservation, as
    # the totals consumer does per event, so priced at its time.
    "remove_old_guest_details": "summary",
}
RELAY_BATCH = 100

# Assumptions, each stated in the tables' notes.
IDLE_LIFETIME_MINUTES = 10.0  # how long an idle environment stays warm (AWS does not say)
PEAK_TO_AVERAGE = 4.0  # dinner-time bookings against the month's average rate
TARGET_UTILIZATION = 0.7  # DynamoDB auto scaling's default target
PIPES_POLLS_PER_SECOND_PER_SHARD = 4.0  # as Lambda's stream mapping polls; Pipes' is unpublished
STREAM_READS_FREE_PER_MONTH = 2_500_000
SHARDS = 1  # one shard below ~1,000 writes/s (DynamoDB splits the stream as the table grows)
MINUTES_PER_MONTH = 30 * 24 * 60
HOURS_PER_MONTH = 730
VOLUMES = (1_000, 100_000, 1_000_000, 10_000_000, 100_000_000)
ALARMS = 20  # infra/resources.yaml's AWS::CloudWatch::Alarm resources (a test holds it)


@dataclass(frozen=True)
class Work:
    """One reservation's work for one function: invocations and units of work."""

    invocations: float
    units: float  # requests, records, emails or events (what `seconds_per_unit` is per)


@dataclass
class Inputs:
    cpu: lambda_cpu.Measured
    calls: aws_calls.Measured

    def warm_seconds(self, function: str) -> float:
        kind = MEASURED_AS[function]
        seconds = self.cpu.median_of(kind, self.memory(function), "warm")
        return seconds / RELAY_BATCH if kind == "relay" else seconds

    def init_seconds(self, function: str) -> float:
        kind, memory = MEASURED_AS[function], self.memory(function)
        return self.cpu.median_of(kind, memory, "runtime_start") + self.cpu.median_of(
            kind, memory, "init"
        )

    def memory(self, function: str) -> int:
        """The chosen size (make bench measures each), else the nearest measured one (the
        smoke run measures one size)."""
        chosen = FUNCTION_MEMORY_MB[function]
        return min(self.cpu.sizes, key=lambda m: (abs(m - chosen), m))


def gb_second_price() -> float:
    return PRICES[f"lambda_gb_s_{LAMBDA_ARCHITECTURE}"].dollars


def cold_fraction(invocations_per_month: float) -> float:
    """Share of invocations finding no warm environment, if they arrive evenly at random and
    an idle environment lives IDLE_LIFETIME_MINUTES (Poisson: no arrival in that window)."""
    per_minute = invocations_per_month / MINUTES_PER_MONTH
    return math.exp(-per_minute * IDLE_LIFETIME_MINUTES)


def this_service_work(flow: aws_calls.Flow) -> dict[str, Work]:
    per = flow.per_reservation
    staff_emails = 1.0  # of the flow's 3: the request to staff; the guest gets the other 2
    return {
        "api_handler": Work(per(flow.invocations["api_handler"]),
                            per(flow.invocations["api_handler"])),
        "publish_reservation_events": Work(per(flow.invocations["publish_reservation_events"]),
                                           per(flow.stream_records)),
        "notify_staff": Work(per(flow.invocations["notify_staff"]), staff_emails),
        "notify_guest": Work(per(flow.invocations["notify_guest"]),
                             flow.ses_emails - staff_emails),
        "update_daily_summary": Work(per(flow.invocations["update_daily_summary"]),
                                     per(flow.invocations["update_daily_summary"])),
        # One removal each; the runs themselves are fixed a month (fixed_monthly).
        RETENTION_HANDLER: Work(0.0, 1.0),
    }  # fmt: skip


@dataclass
class Bill:
    """Dollars per reservation by line, at one monthly volume."""

    lines: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.lines.values())


def lambda_lines(inputs: Inputs, work: dict[str, Work], volume: int) -> dict[str, float]:
    requests = gb_warm = gb_init = 0.0
    for function, w in work.items():
        gb = FUNCTION_MEMORY_MB[function] / 1024
        requests += w.invocations
        gb_warm += w.units * inputs.warm_seconds(function) * gb
        cold = cold_fraction(w.invocations * volume)
        gb_init += w.invocations * cold * inputs.init_seconds(function) * gb
    return {
        "Lambda requests": requests * PRICES["lambda_request"].dollars,
        "Lambda GB-s, invocations": gb_warm * gb_second_price(),
        "Lambda GB-s, cold-start init": gb_init * gb_second_price(),
    }


def api_gateway(requests_per_month: float) -> float:
    """REST API tiers: $3.50/M to 333M a month, then $2.80/M (to 1B; beyond is not reached)."""
    first = min(requests_per_month, 333e6)
    return first * PRICES["api_request"].dollars + (requests_per_month - first) * 2.80e-6


def common_lines(flow: aws_calls.Flow, volume: int, sqs: bool) -> dict[str, float]:
    per = flow.per_reservation
    api_requests = per(flow.invocations["api_handler"])
    return {
        "API Gateway": api_gateway(api_requests * volume) / volume,
        "DynamoDB writes (on-demand)": per(sum(flow.write_units))
        * PRICES["write_request_unit"].dollars,
        "DynamoDB reads (on-demand)": per(sum(flow.read_units))
        * PRICES["read_request_unit"].dollars,
        "EventBridge events": flow.events * PRICES["eventbridge_event"].dollars,
        "SQS requests": (per(flow.sqs_requests) if sqs else 0.0) * PRICES["sqs_request"].dollars,
        "SES emails": flow.ses_emails * PRICES["ses_email"].dollars,
    }


def this_service(inputs: Inputs, volume: int) -> Bill:
    flow = inputs.calls.by_batch[100]
    lines = common_lines(flow, volume, sqs=True)
    lines["DynamoDB stream reads"] = 0.0  # GetRecords by a Lambda trigger are free
    lines.update(lambda_lines(inputs, this_service_work(flow), volume))
    return Bill(lines)


def naive(inputs: Inputs, volume: int) -> Bill:
    """The API handler renders and sends each email and publishes each event itself, inside
    the guest's request: its duration is the API's, the emails' and the relay's per record."""
    flow = inputs.calls.naive
    api = flow.per_reservation(flow.invocations["api_handler"])
    seconds = (
        api * inputs.warm_seconds("api_handler")
        + flow.ses_emails * inputs.warm_seconds("notify_guest")
        + flow.events * inputs.warm_seconds("publish_reservation_events")
    )
    work = {
        "api_handler": Work(api, seconds / inputs.warm_seconds("api_handler")),
        RETENTION_HANDLER: Work(0.0, 1.0),  # the same removal as this service's
    }
    lines = common_lines(flow, volume, sqs=False)
    lines["DynamoDB stream reads"] = 0.0
    lines.update(lambda_lines(inputs, work, volume))
    return Bill(lines)


def with_pipes(inputs: Inputs, volume: int) -> Bill:
    """A Pipe from the stream to the bus in place of the relay function: one Pipes request per
    record past the filter; its stream reads are billed (only Lambda's are free)."""
    flow = inputs.calls.by_batch[100]
    work = this_service_work(flow)
    records = work.pop("publish_reservation_events").units
    lines = common_lines(flow, volume, sqs=True)
    lines["EventBridge Pipes"] = records * PRICES["pipes_request"].dollars
    lines["DynamoDB stream reads"] = pipes_stream_reads_per_month() / volume
    lines.update(lambda_lines(inputs, work, volume))
    return Bill(lines)


def pipes_stream_reads_per_month() -> float:
    reads = PIPES_POLLS_PER_SECOND_PER_SHARD * SHARDS * MINUTES_PER_MONTH * 60
    return max(0.0, reads - STREAM_READS_FREE_PER_MONTH) * PRICES["stream_read_request"].dollars


def dynamodb_monthly(flow: aws_calls.Flow, volume: int) -> tuple[float, float]:
    """(on-demand, provisioned) dollars a month for the table's measured units at `volume`;
    provisioned sized to the peak at auto scaling's target utilization, at least 1 unit."""
    per = flow.per_reservation
    write_units, read_units = per(sum(flow.write_units)), per(sum(flow.read_units))
    on_demand = volume * (
        write_units * PRICES["write_request_unit"].dollars
        + read_units * PRICES["read_request_unit"].dollars
    )
    seconds = MINUTES_PER_MONTH * 60
    scale = PEAK_TO_AVERAGE / TARGET_UTILIZATION
    wcu = max(1, math.ceil(volume * write_units / seconds * scale))
    # One RCU serves two eventually consistent reads of 4 KB a second; read units here are
    # already halved for eventual consistency, so one RCU covers one read unit a second.
    rcu = max(1, math.ceil(volume * read_units / seconds * scale))
    provisioned = HOURS_PER_MONTH * (
        wcu * PRICES["wcu_hour"].dollars + rcu * PRICES["rcu_hour"].dollars
    )
    return on_demand, provisioned


def schedule_runs_per_month() -> float:
    return MINUTES_PER_MONTH / EXPIRY_SCHEDULE_MINUTES + HOURS_PER_MONTH / RETENTION_SCHEDULE_HOURS


def fixed_monthly(inputs: Inputs) -> float:
    """The alarms, and the two schedules' runs whatever the volume: each an invocation, one
    Query of the due index (half a read unit) and, at 256 MB, about a totals event's time."""
    runs = schedule_runs_per_month()
    run = (
        PRICES["lambda_request"].dollars
        + 0.5 * PRICES["read_request_unit"].dollars
        + inputs.warm_seconds(RETENTION_HANDLER)
        * FUNCTION_MEMORY_MB[RETENTION_HANDLER]
        / 1024
        * gb_second_price()
    )
    return ALARMS * PRICES["alarm_month"].dollars + runs * run


def per_million_table(inputs: Inputs, volume: int = 1_000_000) -> Table:
    designs = {
        "naive synchronous": naive(inputs, volume),
        "this service": this_service(inputs, volume),
        "this service, Pipes relay": with_pipes(inputs, volume),
    }
    table = Table(
        f"Dollars per million reservations ({REGION} list prices read {READ_ON}; "
        f"{volume:,} reservations a month)",
        ["line", *designs],
    )
    lines: list[str] = []
    for bill in designs.values():
        lines += [line for line in bill.lines if line not in lines]
    for line in lines:
        table.add(line, *(f"{b.lines.get(line, 0.0) * 1e6:,.2f}" for b in designs.values()))
    table.add("**total**", *(f"**{b.total * 1e6:,.2f}**" for b in designs.values()))
    flow = inputs.calls.by_batch[100]
    sizes = ", ".join(f"{f} {FUNCTION_MEMORY_MB[f]} MB" for f in FUNCTION_MEMORY_MB)
    relay_work = this_service_work(flow)["publish_reservation_events"]
    relay = sum(lambda_lines(inputs, {"publish_reservation_events": relay_work}, volume).values())
    piped = relay_work.units * PRICES["pipes_request"].dollars
    at_one_percent = (
        sum(
            w.invocations * 0.01 * inputs.init_seconds(f) * FUNCTION_MEMORY_MB[f] / 1024
            for f, w in this_service_work(flow).items()
        )
        * gb_second_price()
    )
    table.notes += [
        f"counts per reservation measured by the AWS-calls benchmark (stream batch 100): "
        f"{flow.per_reservation(flow.invocations['api_handler']):.0f} API requests, "
        f"{flow.per_reservation(sum(flow.invocations.values())):.2f} Lambda invocations, "
        f"{flow.per_reservation(sum(flow.write_units)):.1f} write and "
        f"{flow.per_reservation(sum(flow.read_units)):.1f} read units, {flow.events:.0f} events, "
        f"{flow.per_reservation(flow.sqs_requests):.1f} SQS requests, "
        f"{flow.ses_emails:.0f} emails",
        f"durations: each function's warm median under the CPU model at its size ({sizes}; "
        f"{LAMBDA_ARCHITECTURE} GB-s price), measured on x86_64; the naive API's is its own "
        "plus the emails' and the publishing's, inside the guest's request",
        f"cold starts: Init billed since 1 Aug 2025; share of cold invocations "
        f"exp(-invocations per minute × {IDLE_LIFETIME_MINUTES:.0f} min) (an idle environment's "
        "life is not documented; 10 min assumed), which leaves out scale-out cold starts: at "
        f"AWS's 'under 1% of invocations', Init would add ${at_one_percent * 1e6:.2f} per "
        "million reservations to this service",
        "SES is most of the bill: 3 emails at $0.10 per 1,000 outweigh everything else; the "
        "designs differ by their DynamoDB writes (idempotency, dedupe and totals items) and "
        "Lambda invocations",
        "not counted: the staff page view before Accept (one more API request and read for "
        "every design), GSI1's write units, CloudWatch Logs, data transfer, free tiers; "
        f"fixed a month: {ALARMS} alarms and {schedule_runs_per_month():,.0f} schedule runs "
        f"${fixed_monthly(inputs):.2f}; the retention's removal (a read, a query, a write) "
        "is counted per reservation in both designs",
        "Pipes: each record past the filter is a request; its GetRecords are billed (only "
        f"Lambda triggers read free): {PIPES_POLLS_PER_SECOND_PER_SHARD:.0f} polls/s per shard "
        f"assumed, ${pipes_stream_reads_per_month():.2f} a shard-month after the free "
        "2.5M, spread over the volume",
        f"the relay function itself costs ${relay * 1e6:.2f} per million reservations (its "
        f"requests and GB-s); the Pipe that would replace it ${piped * 1e6:.2f} plus the "
        "stream polling. A Pipe is the better choice when records can reach the bus as they "
        "are (a filter and an input transformer, no code to own or patch); this project keeps "
        "the Lambda relay because each event is decided from the old and new images, carries "
        "a deterministic id the consumers deduplicate on, sign-in requests become their own "
        "event, a bad record is quarantined instead of blocking its shard, and `ops recover` "
        "replays the stream through the same code; a Pipe's enrichment step would be that "
        "same Lambda, plus the Pipe",
    ]
    return table


def scaling_table(inputs: Inputs) -> Table:
    table = Table(
        "Dollars a month from 1k to 100M reservations (same prices; DynamoDB both ways)",
        ["reservations a month", "this service", "$ per 1k", "naive synchronous",
         "Pipes relay", "table on-demand", "table provisioned"],
    )  # fmt: skip
    flow = inputs.calls.by_batch[100]
    for volume in VOLUMES:
        ours, plain, piped = (
            design(inputs, volume).total * volume + fixed_monthly(inputs)
            for design in (this_service, naive, with_pipes)
        )
        on_demand, provisioned = dynamodb_monthly(flow, volume)
        table.add(
            f"{volume:,}",
            f"{ours:,.2f}",
            f"{ours / volume * 1000:.3f}",
            f"{plain:,.2f}",
            f"{piped:,.2f}",
            f"{on_demand:,.2f}",
            f"{provisioned:,.2f}",
        )
    on_demand, provisioned = dynamodb_monthly(flow, VOLUMES[-1])
    break_even = PEAK_TO_AVERAGE * on_demand / provisioned
    table.notes += [
        f"monthly totals include the fixed ${fixed_monthly(inputs):.2f} of alarms and schedules; "
        "the table columns "
        "are this service's reads and writes alone",
        f"provisioned capacity is cheaper only when the peak stays under ~{break_even:.1f}× the "
        "month's average rate (or with reserved capacity); bookings peak at dinner time, so "
        "the table stays on-demand",
        f"provisioned: sized to the peak ({PEAK_TO_AVERAGE:.0f}× the month's average rate, "
        f"assumed) at {TARGET_UTILIZATION:.0%} utilization, at least 1 WCU and 1 RCU; the "
        "table and GSI1 each need their own; on-demand needs no sizing and no headroom",
        "cold starts shrink with volume (the Poisson model above); API Gateway's cheaper tier "
        "starts at 333M requests a month, past 100M reservations' requests",
    ]
    return table


def prices_table() -> Table:
    table = Table(f"Prices used ({REGION}, read {READ_ON})", ["item", "dollars", "per", "source"])
    for name, price in PRICES.items():
        table.add(name, f"{price.dollars:.10g}", price.unit, price.source)
    return table


def sizing_table(cpu: lambda_cpu.Measured) -> Table:
    """Each function at its chosen size against the others measured: what a caller waits for
    and what a million warm invocations cost (GB-s and requests; the same CPU model)."""
    table = Table(
        f"Chosen sizes ({LAMBDA_ARCHITECTURE}): cold start, warm duration and $ per million "
        "warm invocations at each measured size (the chosen one in bold)",
        ["function", "works on", *(f"{m} MB" for m in cpu.sizes)],
    )
    units = {"api": "a POST", "relay": "100 records", "consumer": "an email", "summary": "an event"}
    for function, kind in MEASURED_AS.items():
        chosen = FUNCTION_MEMORY_MB[function]
        cells = []
        for memory in cpu.sizes:
            warm = cpu.median_of(kind, memory, "warm")
            dollars = 1e6 * (
                PRICES["lambda_request"].dollars + warm * memory / 1024 * gb_second_price()
            )
            cold = cpu.median_of(kind, memory, "cold")
            cell = f"{cold * 1000:.0f} / {warm * 1000:.0f} ms, ${dollars:.2f}"
            cells.append(f"**{cell}**" if memory == chosen else cell)
        table.add(f"{function} ({chosen} MB)", units[kind], *cells)
    table.notes.append(
        "each cell: cold start (runtime start + init + first invocation, at the memory's CPU "
        "share) / warm median, and a million warm invocations' Lambda bill; the figures come "
        "from the CPU-model table above (notify_staff and notify_guest: the email consumer)"
    )
    return table


def tables(cpu: lambda_cpu.Measured, calls: aws_calls.Measured) -> list[Table]:
    inputs = Inputs(cpu, calls)
    return [per_million_table(inputs), scaling_table(inputs), prices_table()]
