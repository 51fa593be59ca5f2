"""Prometheus metrics for GET /metrics, in a registry of the app's own.

- ``http_requests_total`` and ``http_request_duration_seconds`` by route,
  method and status (prometheus-fastapi-instrumentator). An event stream
  counts its time to the first byte, not the hours it stays open.
- ``descent_jobs{status}``: rows of the jobs table, counted at scrape time.
- ``descent_queue_depth{queue}``: messages waiting in the broker, asked at
  scrape time; left out when the broker cannot be reached.
- ``descent_epoch_duration_seconds{queue}``: how long epochs took. Workers
  run in other processes, often on other machines, and serve no HTTP; the
  database is the record. So the API feeds a real histogram at scrape time
  from epoch rows committed since the previous scrape (their ``duration_s``
  metric), found by autoincrement id. The first scrape only sets that id: the
  histogram counts epochs finished while this process serves metrics and
  starts from zero after a restart, as any counter does. Every API replica
  sees the same rows, so aggregate replicas with max, not sum.
- ``descent_predictions_total``: rows answered by the predict route.
"""

import math
import threading
from collections.abc import Iterator
from datetime import timedelta

import structlog
from celery import Celery
from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_fastapi_instrumentator import Instrumentator
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from api import broker_status
from persistence.db import session_scope
from persistence.models import EpochMetrics, JobStatus, TrainingJob, utcnow

log = structlog.get_logger(__name__)

STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, *JobStatus.FINISHED)
# Epochs take from a millisecond (a tiny net) to minutes (a big one on a CPU).
EPOCH_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900)
# Rows are read this long after they were written: on PostgreSQL, concurrent
# workers can commit ids out of order, and a row still uncommitted behind the
# newest one read would otherwise be skipped for good. Commits take
# milliseconds; the margin also covers clock skew between machines.
SETTLE_SECONDS = 5.0
# Per-route latency: a status read takes milliseconds, an upload or a large
# prediction seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
FEED_ROWS = 20_000


class JobsByStatus(Collector):
    """``descent_jobs{status}`` from one GROUP BY at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        query = select(TrainingJob.status, func.count()).group_by(TrainingJob.status)
        try:
            with session_scope() as session:
                counts = {status: count for status, count in session.execute(query)}
        except SQLAlchemyError as error:
            log.warning("metrics.jobs_unavailable", error=str(error))
            return
        family = GaugeMetricFamily(
            "descent_jobs",
            "Training jobs in the database, by status",
            labels=["status"],
        )
        for status in STATUSES:
            family.add_metric([status], counts.get(status, 0))
        yield family


class QueueDepth(Collector):
    """``descent_queue_depth{queue}`` asked of the broker at scrape time."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            depths = broker_status.queue_depths(self.celery)
        except Exception as error:
            log.warning("metrics.queue_depth_unavailable", error=str(error))
            return
        family = GaugeMetricFamily(
            "descent_queue_depth",
            "Messages waiting in a broker queue",
            labels=["queue"],
        )
        for queue, depth in depths.items():
            family.add_metric([queue], depth)
        yield family


class EpochDurations:
    """A histogram of epoch durations, fed from new epoch rows at each scrape."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.histogram = Histogram(
            "descent_epoch_duration_seconds",
            "Wall time of one training epoch, read from the epoch rows",
            ["queue"],
            buckets=EPOCH_BUCKETS,
            registry=registry,
        )
        self.after: int | None = None
        self.lock = threading.Lock()

    def feed(self) -> None:
        settled = utcnow() - timedelta(seconds=SETTLE_SECONDS)
        with self.lock, session_scope() as session:
            if self.after is None:
                self.after = session.scalar(select(func.max(EpochMetrics.id))) or 0
                return
            rows = session.execute(
                select(EpochMetrics.id, EpochMetrics.metrics, TrainingJob.queue)
                .join(TrainingJob, TrainingJob.id == EpochMetrics.job_id)
                .where(EpochMetrics.id > self.after, EpochMetrics.created_at < settled)
                .order_by(EpochMetrics.id)
                .limit(FEED_ROWS)
            ).all()
            for row_id, metrics, queue in rows:
                duration = metrics.get("duration_s")
                if isinstance(duration, int | float) and math.isfinite(duration):
                    self.histogram.labels(queue).observe(max(float(duration), 0.0))
                self.after = row_id


class Telemetry:
    """The app's metrics: its registry, collectors and the predictions counter."""

    def __init__(self, celery: Celery) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(JobsByStatus())
        self.registry.register(QueueDepth(celery))
        self.epochs = EpochDurations(self.registry)
        self.predictions = Counter(
            "descent_predictions",
            "Rows answered by POST /v1/models/{id}/predict",
            registry=self.registry,
        )

    def instrument(self, app: FastAPI) -> None:
        Instrumentator(
            should_group_status_codes=False,
            should_exclude_streaming_duration=True,
            excluded_handlers=["^/metrics$", "^/static"],
            registry=self.registry,
        ).instrument(app, latency_lowr_buckets=LATENCY_BUCKETS)

    def scrape(self) -> bytes:
        """The text exposition; blocking (database, broker): call from a thread."""
        try:
            self.epochs.feed()
        except SQLAlchemyError as error:
            log.warning("metrics.epochs_unavailable", error=str(error))
        return generate_latest(self.registry)
