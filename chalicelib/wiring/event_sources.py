"""How each event handler is fed: the one source of truth for the Chalice decorators in app.py,
the settings Chalice's decorators cannot express (applied by `chalice package` merging and by
the post-deploy step), and the local runtime that emulates Lambda's event source mappings."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from chalicelib.adapters.layout import ENTITY, RESERVATION, STAFF_SIGN_IN_REQUEST
from chalicelib.domain.events import SOURCE

# Only reservation items, inserted or modified, and new sign-in requests ever reach the stream
# handler.
RESERVATION_CHANGES_PATTERN: dict[str, Any] = {
    "eventName": ["INSERT", "MODIFY"],
    "dynamodb": {"NewImage": {ENTITY: {"S": [RESERVATION]}}},
}
SIGN_IN_REQUESTS_PATTERN: dict[str, Any] = {
    "eventName": ["INSERT"],
    "dynamodb": {"NewImage": {ENTITY: {"S": [STAFF_SIGN_IN_REQUEST]}}},
}


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB stream event source mapping (Lambda's own setting names)."""

    handler: str
    batch_size: int
    batching_window_seconds: int
    starting_position: str
    maximum_retry_attempts: int
    bisect_on_error: bool
    maximum_record_age_seconds: int
    on_failure_destination: str  # logical id in infra/resources.yaml (an S3 bucket)
    filter_patterns: tuple[dict[str, Any], ...]

    def lambda_settings(self) -> dict[str, Any]:
        """As `update_event_source_mapping` and CloudFormation spell them."""
        return {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batching_window_seconds,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "BisectBatchOnFunctionError": self.bisect_on_error,
            "MaximumRecordAgeInSeconds": self.maximum_record_age_seconds,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "FilterCriteria": {
                "Filters": [{"Pattern": json.dumps(p)} for p in self.filter_patterns]
            },
        }


@dataclass(frozen=True)
class QueueMapping:
    """An SQS event source mapping, and the events a rule on the bus sends to its queue."""

    handler: str
    queue: str  # logical id in infra/resources.yaml
    batch_size: int
    batching_window_seconds: int
    # How many invocations Lambda runs at once for this queue: bounds the calls downstream.
    maximum_concurrency: int
    # The queue's rule (`rule`, a logical id in infra/resources.yaml) routes these detail
    # types to it; the template spells its pattern and a test holds it to `rule_pattern`.
    rule: str
    detail_types: tuple[str, ...]

    @property
    def rule_pattern(self) -> dict[str, Any]:
        return {"source": [SOURCE], "detail-type": list(self.detail_types)}

    def lambda_settings(self, sending: StaffSending | None = None) -> dict[str, Any]:
        """As `update_event_source_mapping` and CloudFormation spell them; batch size and
        concurrency sized to the stage's SES rate when `sending` is given."""
        return {
            "BatchSize": sending.batch_size if sending else self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batching_window_seconds,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {
                "MaximumConcurrency": (
                    sending.maximum_concurrency if sending else self.maximum_concurrency
                )
            },
        }


# EventBridge's retries of delivering an event to a rule's target (its maximums), then the
# target's DLQ: for the rules Chalice makes (Lambda targets) and the staff-notification rule
# in infra/resources.yaml (a queue target, given these as the template's parameters).
RULE_RETRY_ATTEMPTS = 185
RULE_EVENT_AGE_SECONDS = 86400


def rule_template_parameters() -> dict[str, str]:
    """The retry policy as infra/resources.yaml's parameters (its rules use them)."""
    return {
        "RuleMaximumRetryAttempts": str(RULE_RETRY_ATTEMPTS),
        "RuleMaximumEventAgeInSeconds": str(RULE_EVENT_AGE_SECONDS),
    }


@dataclass(frozen=True)
class BusSubscription:
    """An on_cw_event handler: a rule on the service's bus, invoked asynchronously."""

    handler: str
    detail_types: tuple[str, ...]
    maximum_retry_attempts: int = 2  # Lambda's asynchronous invocation retries
    maximum_event_age_seconds: int = 21600
    dead_letter_queue: str = "EventsDeadLetterQueue"
    rule_retry_attempts: int = RULE_RETRY_ATTEMPTS
    rule_event_age_seconds: int = RULE_EVENT_AGE_SECONDS
    pattern: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        pattern = {"source": [SOURCE], "detail-type": list(self.detail_types)}
        object.__setattr__(self, "pattern", pattern)

    @property
    def rule_retry_policy(self) -> dict[str, int]:
        """The rule target's RetryPolicy, as CloudFormation and PutTargets spell it."""
        return {
            "MaximumRetryAttempts": self.rule_retry_attempts,
            "MaximumEventAgeInSeconds": self.rule_event_age_seconds,
        }


RESERVATION_STREAM = StreamMapping(
    handler="publish_reservation_events",
    batch_size=100,
    batching_window_seconds=1,
    starting_position="TRIM_HORIZON",
    maximum_retry_attempts=10,
    bisect_on_error=True,
    # Well inside the stream's 24 h retention: a batch that cannot be published (EventBridge
    # down, a bad release) stops holding up its shard after 6 h and goes, records and all, to
    # the on-failure bucket; newer bookings flow again while the operator recovers it.
    maximum_record_age_seconds=6 * 3600,
    on_failure_destination="StreamFailureBucket",
    filter_patterns=(RESERVATION_CHANGES_PATTERN, SIGN_IN_REQUESTS_PATTERN),
)

STAFF_NOTIFICATIONS = QueueMapping(
    handler="notify_staff",
    queue="StaffNotificationQueue",
    batch_size=10,
    batching_window_seconds=0,
    # Lambda's lowest maximum for an SQS mapping; deployed stages size it (and the batch) to
    # their SES rate with StaffSending below. The local runtime runs this value.
    maximum_concurrency=2,
    rule="StaffNotificationRule",
    # Requests, cancellations (staff hear of a guest's; their own send nothing) and declines
    # (staff hear of one the answer deadline made; their own send nothing).
    detail_types=(
        "ReservationRequested",
        "ReservationCancelled",
        "ReservationDeclined",
        "StaffSignInRequested",
    ),
)

# Unanswered requests are declined by a scheduled function (app.expire_unanswered_requests)
# this often: a request is declined at most a period (plus the run) after its deadline.
EXPIRY_SCHEDULE_MINUTES = 1
EXPIRY_HANDLER = "expire_unanswered_requests"

# Guests' details are removed the retention period after the seating by a scheduled function
# (app.remove_old_guest_details) this often: within an hour of their due time, a backlog over
# later runs (services.guest_details.MAX_REMOVALS_PER_RUN each).
RETENTION_SCHEDULE_HOURS = 1
RETENTION_HANDLER = "remove_old_guest_details"

# Each function's timeout, the one source for `chalice deploy` and `chalice package` alike
# (written into .chalice/config.json as `lambda_timeout` by `python -m infra.iam`; Chalice's
# default is 60 s). The API stays under API Gateway's 29 s integration limit; the staff queue's
# visibility timeout is derived from notify_staff's (AWS advises six times).
FUNCTION_TIMEOUT_SECONDS: dict[str, int] = {
    "api_handler": 20,
    RESERVATION_STREAM.handler: 60,
    STAFF_NOTIFICATIONS.handler: 30,
    "notify_guest": 30,
    "update_daily_summary": 30,
    # Up to MAX_EXPIRIES_PER_RUN conditional writes; the next run (a minute on) takes the rest.
    EXPIRY_HANDLER: 60,
    # Up to MAX_REMOVALS_PER_RUN reads and writes (a few ms each); the next run takes the rest.
    RETENTION_HANDLER: 120,
}
VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT = 6

# Each function's memory (MB), the one source for both deploy paths (written into each deployed
# stage's lambda_functions as `lambda_memory_size` by `python -m infra.iam`). Lambda gives CPU
# in proportion (one vCPU at 1,769 MB): chosen from the cold and warm figures measured under that
# CPU model (docs/performance.md; the reasoning in docs/deploy.md).
FUNCTION_MEMORY_MB: dict[str, int] = {
    # A guest waits on its cold start: a whole vCPU (more buys a single-threaded Python nothing).
    "api_handler": 1769,
    # Half the warm batch time of 256 MB at about the same GB-s; its cold starts are rare.
    RESERVATION_STREAM.handler: 512,
    # Paced to the SES rate: a faster CPU would mostly be billed waiting.
    STAFF_NOTIFICATIONS.handler: 512,
    # The guest's receipt and confirmation: 1024 MB halves 512's warm time for ~20% more GB-s.
    "notify_guest": 1024,
    # Nobody waits on the day's totals.
    "update_daily_summary": 256,
    # A query and a write per overdue request, once a minute: nobody waits on it.
    EXPIRY_HANDLER: 256,
    # Once an hour, nobody waits on it.
    RETENTION_HANDLER: 256,
}
# Graviton: Chalice 1.34 builds the zip with aarch64 wheels (pydantic-core) and sets
# Architectures on both paths (create/update_function_code, and the SAM template).
LAMBDA_ARCHITECTURE = "arm64"


def queue_template_parameters() -> dict[str, str]:
    """The staff queue's visibility timeout as infra/resources.yaml's parameter."""
    timeout = FUNCTION_TIMEOUT_SECONDS[STAFF_NOTIFICATIONS.handler]
    return {"NotificationVisibilityTimeout": str(VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT * timeout)}


# SES: an account in the sandbox may send 1 email a second (AWS's only documented default; out
# of the sandbox AWS sets each account's rate: `aws sesv2 get-account` -> SendQuota.MaxSendRate).
# Each deployed stage states its account's rate as SES_MAX_SEND_RATE in .chalice/config.json.
SES_SANDBOX_SEND_RATE = 1.0
# The share of that rate staff emails may take; guest emails (notify_guest) keep the rest.
STAFF_SHARE_OF_SEND_RATE = 0.5
# How fast one notify_staff invocation may send (emails/s): the pace that sets how many run.
STAFF_EMAILS_PER_SECOND_PER_INVOCATION = 5.0
SQS_MAXIMUM_CONCURRENCY_RANGE = (2, 1000)  # Lambda's bounds for ScalingConfig


@dataclass(frozen=True)
class StaffSending:
    """The staff queue's consumer sized to the account's SES rate: `maximum_concurrency`
    invocations at once, each sending one email per `seconds_between_emails` at most, so staff
    emails never exceed their share of the rate and a burst waits in the queue; the batch is
    as large as fits in half the function's timeout at that pace."""

    account_rate: float  # emails per second, SES's MaxSendRate for the stage's account

    @property
    def rate(self) -> float:
        return self.account_rate * STAFF_SHARE_OF_SEND_RATE

    @property
    def maximum_concurrency(self) -> int:
        low, high = SQS_MAXIMUM_CONCURRENCY_RANGE
        return max(low, min(high, math.floor(self.rate / STAFF_EMAILS_PER_SECOND_PER_INVOCATION)))

    @property
    def seconds_between_emails(self) -> float:
        """Per invocation: with `maximum_concurrency` of them, the staff rate exactly."""
        return self.maximum_concurrency / self.rate

    @property
    def batch_size(self) -> int:
        budget = FUNCTION_TIMEOUT_SECONDS[STAFF_NOTIFICATIONS.handler] / 2
        return max(1, min(10, math.floor(budget / self.seconds_between_emails)))


GUEST_NOTIFICATIONS = BusSubscription(
    handler="notify_guest",
    detail_types=(
        "ReservationRequested",
        "ReservationAccepted",
        "ReservationDeclined",
        "ReservationCancelled",
    ),
)

DAILY_SUMMARY = BusSubscription(
    handler="update_daily_summary",
    detail_types=(
        "ReservationRequested",
        "ReservationAccepted",
        "ReservationDeclined",
        "ReservationCancelled",
    ),
)
