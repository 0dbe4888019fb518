"""Settings from the environment (and an optional `.env` file)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.engine import Timeouts

DEFAULT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        "development", description="`production` refuses default secrets and dev sign-in."
    )
    data_dir: Path = Field(Path("data"), description="Where the SQLite file and photos live.")
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in DATA_DIR.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = Field("json", description="One JSON object a line, or plain text.")
    migrate_on_start: bool = Field(True, description="Run `alembic upgrade head` at start-up.")
    demo: bool = Field(False, description="Seed the demo town at start-up if it is missing.")
    db_lock_timeout_ms: int = Field(
        Timeouts.lock_ms, ge=0, description="PostgreSQL: longest wait for a lock, then 503 database-timeout (0: none).",
    )
    db_statement_timeout_ms: int = Field(
        Timeouts.statement_ms, ge=0, description="PostgreSQL: longest statement, then 503 database-timeout (0: none).",
    )
    db_idle_in_transaction_timeout_ms: int = Field(
        Timeouts.idle_in_transaction_ms, ge=0,
        description="PostgreSQL: a session idle this long inside a transaction is ended, releasing its locks.",
    )

    signin_window_seconds: int = Field(300, ge=10, description="Window of the sign-in attempt limits.")
    signin_per_phone: int = Field(10, ge=1, description="Staff sign-in attempts per phone per window.")
    signin_per_address: int = Field(60, ge=1, description="Sign-in attempts per client address per window.")
    orders_per_hour_per_resident: int = Field(30, ge=1, description="Orders one resident may place per clock hour.")
    orders_per_hour_per_staff: int = Field(
        120, ge=1, description="Orders one staff member may place on residents' behalf per clock hour.")
    orders_per_hour_per_address: int = Field(
        300, ge=1, description="Orders placed from one client address per clock hour.")
    open311_requests_per_hour_per_client: int = Field(
        600, ge=1, description="Service requests one Open311 client system may post per clock hour.")
    secret_key: str = Field(DEFAULT_SECRET, description="Signs the JWTs; at least 32 characters.")
    access_token_minutes: int = Field(60, ge=1, description="Lifetime of an access token.")
    refresh_token_days: int = Field(30, ge=1, description="Lifetime of a refresh token (each use renews it).")
    refresh_reuse_grace_seconds: int = Field(
        30, ge=0, le=300,
        description="A refresh token used again this soon (two tabs, a retry) answers the same next token (0: never).",
    )
    dashboard_token_days: int = Field(
        30, ge=1, description="Lifetime of a dashboard token; POST /auth/dashboard/rotate renews it.",
    )
    dev_login: bool | None = Field(
        None, description="Resident sign-in without WeChat; on only in development."
    )

    wechat_api_base: str = Field("https://api.weixin.qq.com", description="WeChat API base URL.")
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_timeout_seconds: float = 5.0

    scheduler_enabled: bool = Field(
        True, description="Run the sweep and delivery jobs in this process (off for API-only replicas)."
    )
    sweep_interval_seconds: float = Field(60, gt=0, description="How often the overdue sweep runs.")
    projection_interval_seconds: float = Field(
        1, gt=0, description="How often the dashboards' numbers are brought up to date from the event log.",
    )
    delivery_interval_seconds: float = Field(5, gt=0, description="How often notifications are sent.")
    auto_close_enabled: bool = Field(True, description="Close unrated orders at the rating deadline.")
    delivery_max_attempts: int = Field(8, ge=1, description="Attempts before a delivery is dead-lettered.")
    delivery_backoff_seconds: float = Field(30, gt=0, description="First retry delay; doubles each time.")
    delivery_backoff_cap_seconds: float = Field(3600, gt=0, description="Longest retry delay.")
    delivery_lease_seconds: float = Field(120, gt=0, description="How long a sender holds a delivery.")

    inapp_enabled: bool = Field(True, description="In-app inbox channel.")
    wechat_subscribe_enabled: bool = Field(False, description="WeChat subscribe messages to residents.")
    wechat_templates: dict[str, dict] = Field(
        default_factory=dict,
        description='Per notice kind: {"template_id", "page", "data": {"thing1": "{category}", …}} (JSON).',
    )
    wechat_miniprogram_state: Literal["developer", "trial", "formal"] = "formal"
    wecom_enabled: bool = Field(False, description="WeCom group robots of grids and branches.")
    wecom_api_base: str = Field("https://qyapi.weixin.qq.com", description="WeCom API base URL.")
    webhook_url: str = Field("", description="POST every notice as JSON here (empty: off).")
    webhook_secret: str = Field("", description="HMAC-SHA256 key for the X-Wudan-Signature header.")
    http_timeout_seconds: float = Field(5.0, gt=0, description="Timeout of notification HTTP calls.")

    photo_dir: Path | None = Field(None, description="Photo storage; default DATA_DIR/photos.")
    photo_max_bytes: int = Field(5 * 1024 * 1024, ge=1024)
    max_request_bytes: int | None = Field(
        None, description="Largest request body; default the photo limit plus 256 KiB."
    )
    photos_per_order: int = Field(9, ge=1, le=20)
    photo_unattached_max: int = Field(
        30, ge=1, description="Uploads one person may hold unattached (not yet on an order) at once."
    )
    photo_uploads_per_hour: int = Field(60, ge=1, description="Uploads one person may make per clock hour.")
    photo_orphan_hours: int = Field(
        24, ge=1, description="An upload still unattached after this long is deleted, row and file."
    )
    photo_url_seconds: int = Field(
        3600, ge=60, le=7 * 86400,
        description="How long a signed photo URL in an answer loads without a bearer header.",
    )
    photo_cleanup_interval_seconds: float = Field(
        3600, gt=0, description="How often the worker deletes unattached uploads past PHOTO_ORPHAN_HOURS."
    )
    report_interval_seconds: float = Field(
        3600, gt=0, description="How often the worker makes the reports of the periods that have ended."
    )
    reports_enabled: bool = Field(
        True, description="Whether the worker makes the periods' reports (off: on demand only, POST /reports)."
    )

    @property
    def db_timeouts(self) -> Timeouts:
        return Timeouts(self.db_lock_timeout_ms, self.db_statement_timeout_ms, self.db_idle_in_transaction_timeout_ms)

    @property
    def photo_orphan_age(self) -> timedelta:
        return timedelta(hours=self.photo_orphan_hours)

    @model_validator(mode="after")
    def _resolve(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'wudan.db'}"
        if self.max_request_bytes is None:
            self.max_request_bytes = self.photo_max_bytes + 256 * 1024
        if self.photo_dir is None:
            self.photo_dir = self.data_dir / "photos"
        if self.dev_login is None:
            self.dev_login = self.environment == "development"
        if self.environment != "development":
            if self.secret_key == DEFAULT_SECRET:
                raise ValueError("SECRET_KEY must be set outside development")
            if self.dev_login:
                raise ValueError("DEV_LOGIN is for development only")
            if self.demo:
                raise ValueError("DEMO seeds published passwords; it is for development only")
        if min(self.photo_unattached_max, self.photo_uploads_per_hour) < self.photos_per_order:
            raise ValueError("PHOTO_UNATTACHED_MAX and PHOTO_UPLOADS_PER_HOUR must allow PHOTOS_PER_ORDER uploads")
        if self.webhook_url and len(self.webhook_secret) < 16:
            raise ValueError("WEBHOOK_SECRET of at least 16 characters is needed with WEBHOOK_URL")
        if len(self.secret_key) < 32:
            raise ValueError("SECRET_KEY must be at least 32 characters")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
