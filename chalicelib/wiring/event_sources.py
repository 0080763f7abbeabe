"""How each event handler is fed: the one source of truth for the Chalice decorators in app.py,
the settings Chalice's decorators cannot express (applied by `chalice package` merging and by
the post-deploy step), and the local runtime that emulates Lambda's event source mappings."""

from __future__ import annotations

import json
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

    def lambda_settings(self) -> dict[str, Any]:
        return {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": self.batching_window_seconds,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "ScalingConfig": {"MaximumConcurrency": self.maximum_concurrency},
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
    # SES accepts 1 email/s from an account in its sandbox; out of it, a per-account rate
    # (GetSendQuota). 2 is Lambda's lowest maximum for an SQS mapping: a burst of requests
    # waits in the queue instead of throttling SES; a throttled send is retried by botocore,
    # then by the queue.
    maximum_concurrency=2,
    rule="StaffNotificationRule",
    # Requests, and cancellations (staff hear of a guest's; their own send nothing).
    detail_types=("ReservationRequested", "ReservationCancelled", "StaffSignInRequested"),
)

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
}
VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT = 6


def queue_template_parameters() -> dict[str, str]:
    """The staff queue's visibility timeout as infra/resources.yaml's parameter."""
    timeout = FUNCTION_TIMEOUT_SECONDS[STAFF_NOTIFICATIONS.handler]
    return {"NotificationVisibilityTimeout": str(VISIBILITY_TIMEOUT_PER_FUNCTION_TIMEOUT * timeout)}


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
