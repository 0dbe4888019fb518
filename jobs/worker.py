"""The background work: the overdue sweep, the dashboards' numbers counted from the event
log, notification delivery and the removal of uploads no order used, on APScheduler.

Jobs live in memory, defined here; several processes may run them at once, because the
database, not the scheduler, guards each alert, each delivery and each deletion.
Production runs N API replicas with SCHEDULER_ENABLED=false and one `wudan worker`; the
default single process runs everything.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from notifications.dispatcher import Dispatcher, RetryPolicy
from notifications.registry import build_channels
from storage.engine import Database
from workflows.photos import remove_orphan_photos
from workflows.projection import project
from workflows.sweep import sweep
from workflows.whistle_sweep import sweep_whistles
from workflows.tasks import expire_tasks
from workflows.reports import scheduled_reports
from workflows.throttle import forget_old_windows
from infra.clock import Clock
from infra.settings import Settings
from infra.wechat import WeChatClient

log = logging.getLogger("wudan.worker")


class Worker:
    def __init__(self, settings: Settings, database: Database, clock: Clock, wechat: WeChatClient) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.channels = build_channels(settings, database, clock, wechat)
        self.dispatcher = Dispatcher(database, self.channels, RetryPolicy(
            max_attempts=settings.delivery_max_attempts,
            backoff_seconds=settings.delivery_backoff_seconds,
            cap_seconds=settings.delivery_backoff_cap_seconds,
            lease_seconds=settings.delivery_lease_seconds,
        ), clock)

    def run_sweep(self) -> None:
        forget_old_windows(self.database, now=self.clock())
        report = sweep(self.database, now=self.clock(), auto_close=self.settings.auto_close_enabled)
        if report.examined:
            log.info("sweep: %d orders, %d alerts, %d auto-closed, %d failed in %.3fs",
                     report.examined, report.alerts, report.auto_closed, report.failed, report.seconds)
        whistles = sweep_whistles(self.database, now=self.clock())
        if whistles.examined:
            log.info("whistle sweep: %d whistles, %d alerts, %d failed", whistles.examined, whistles.alerts,
                     whistles.failed)
        expired = expire_tasks(self.database, now=self.clock())
        if expired:
            log.info("task board: %d windows closed", expired)

    def run_projection(self) -> None:
        report = project(self.database, now=self.clock())
        if report.events:
            log.info("projection: %d events counted in %d batches in %.3fs", report.events, report.batches,
                     report.seconds)

    def run_delivery(self) -> None:
        report = self.dispatcher.run_once()
        if report.attempted:
            log.info("delivery: %d fanned out, %d attempted: %s", report.fanned_out, report.attempted,
                     report.by_status)

    def run_photo_cleanup(self) -> None:
        report = remove_orphan_photos(self.database, photo_dir=self.settings.photo_dir, now=self.clock(),
                                      orphan_age=self.settings.photo_orphan_age)
        if report.removed or report.failed_files:
            log.info("photo cleanup: %d unattached photos removed, %d files not deleted, in %.3fs",
                     report.removed, report.failed_files, report.seconds)

    def run_reports(self) -> None:
        made = scheduled_reports(self.database, now=self.clock())
        if made:
            log.info("reports: %d made for the periods that ended", made)

    def scheduler(self, *, blocking: bool = False) -> BaseScheduler:
        scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
        first = datetime.now(UTC)
        # max_instances=1 and coalesce: a slow pass is never overlapped by itself in one process.
        for job, seconds, name in (
            (self.run_sweep, self.settings.sweep_interval_seconds, "sweep"),
            (self.run_projection, self.settings.projection_interval_seconds, "projection"),
            (self.run_delivery, self.settings.delivery_interval_seconds, "delivery"),
            (self.run_photo_cleanup, self.settings.photo_cleanup_interval_seconds, "photo_cleanup"),
            *([(self.run_reports, self.settings.report_interval_seconds, "reports")]
              if self.settings.reports_enabled else []),
        ):
            scheduler.add_job(job, "interval", seconds=seconds, id=name, name=name, max_instances=1,
                              coalesce=True, next_run_time=first, misfire_grace_time=None)
        return scheduler

    def close(self) -> None:
        for channel in self.channels:
            close = getattr(channel, "close", None)
            if close:
                close()
