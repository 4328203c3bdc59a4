"""Every Prometheus metric the application exports, in one place so names and labels stay consistent.

Names follow Prometheus conventions (base units, `_total` for counters, `_seconds` for durations); the HTTP
histogram uses OpenTelemetry's semantic-convention name and labels (`http.server.request.duration`). Labels
never carry personal data: routes are templates (`/api/v1/persons/{person_id}`), counties are 6-digit division
codes, kinds and statuses are enum values.

Where each is exported:
- the api's `/metrics` (per pod): the HTTP histogram and readiness;
- the worker's metrics port: the instance-wide gauges (one process computes them, so a sum over api pods
  never double-counts), the callback counter (the dispatcher runs in the worker), and on a separate port
  Temporal's SDK metrics (workflow task latency, activity failures; workflows/observability.py).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HTTP_SERVER_DURATION = Histogram(
    "http_server_request_duration_seconds",
    "Duration of HTTP server requests",
    ["http_request_method", "http_route", "http_response_status_code"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10),
)

READY = Gauge("liuguan_ready", "1 when the last /readyz found PostgreSQL and Temporal reachable, else 0")
READINESS_FAILURES = Counter(
    "liuguan_readiness_check_failures_total", "Failed readiness checks, by dependency", ["check"]
)

CALLBACK_ATTEMPTS = Counter(
    "liuguan_callback_delivery_attempts_total",
    "Attempts to deliver a status callback to a department's endpoint, by outcome (delivered, failed)",
    ["outcome"],
)

OUTBOX_PENDING = Gauge("liuguan_outbox_pending_messages", "Outbox messages not yet processed, by kind", ["kind"])
OUTBOX_OLDEST_AGE = Gauge(
    "liuguan_outbox_oldest_pending_age_seconds", "Age of the oldest unprocessed outbox message, by kind", ["kind"]
)
INTAKE_NOTIFICATIONS = Gauge(
    "liuguan_intake_notifications", "Department notifications by status (received, held, routed ...)", ["status"]
)
CALLBACK_DELIVERIES = Gauge(
    "liuguan_callback_deliveries", "Status callbacks by delivery status (pending, delivered, dead ...)", ["status"]
)
CASES_OPEN = Gauge("liuguan_cases_open", "Open cases, by county (division code)", ["county"])
CASES_OVERDUE = Gauge("liuguan_cases_overdue", "Open cases past their deadline, by county (division code)", ["county"])
INSTANCE_GAUGES = (
    OUTBOX_PENDING,
    OUTBOX_OLDEST_AGE,
    INTAKE_NOTIFICATIONS,
    CALLBACK_DELIVERIES,
    CASES_OPEN,
    CASES_OVERDUE,
)
