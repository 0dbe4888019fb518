"""The `wudan` command: run the service, migrate, seed the demo town, bootstrap a town."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

EPILOG = """
settings come from the environment or a .env file (see README, "Settings"):
  DATABASE_URL   empty: SQLite in ./data/wudan.db; postgresql://user@host/db for PostgreSQL
  ENVIRONMENT    development (default), test or production
  SECRET_KEY     required outside development

examples:
  wudan serve --demo              start on :8000 with the demo town 青山镇
  wudan migrate                   bring the database schema to the newest revision
  wudan create-town 青山镇 --admin-phone 13800000000
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="wudan",
        description="wudan (五单): the five-order loop of grid governance, as a web service.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (migrates the database first)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    serve.add_argument("--demo", action="store_true", help="seed the demo town if missing and print its accounts")

    commands.add_parser(
        "worker",
        help="run only the background jobs: overdue sweep, the dashboards' numbers, notification "
             "delivery, photo cleanup (for SCHEDULER_ENABLED=false APIs)",
    )
    commands.add_parser("migrate", help="run Alembic migrations up to head")
    commands.add_parser("seed-demo", help="create the demo town 青山镇 and print its sample accounts")

    town = commands.add_parser("create-town", help="create a town with its first town admin")
    town.add_argument("name", help="the town's name, e.g. 青山镇")
    town.add_argument("--admin-phone", required=True, help="the admin's phone (their sign-in)")
    town.add_argument("--admin-name", default="镇党委管理员", help="the admin's name")
    town.add_argument("--timezone", default="Asia/Shanghai", help="IANA time zone (default Asia/Shanghai)")

    args = parser.parse_args(argv)
    return {"serve": _serve, "worker": _worker, "migrate": _migrate, "seed-demo": _seed_demo, "create-town": _create_town}[
        args.command
    ](args)


def _database():
    from storage.engine import Database, create_db_engine
    from storage.migrate import upgrade
    from infra.settings import get_settings

    settings = get_settings()
    engine = create_db_engine(settings.database_url, timeouts=settings.db_timeouts)
    print(f"migrating {engine.url.render_as_string(hide_password=True)} …", file=sys.stderr)
    upgrade(engine)
    return Database(engine)


def _migrate(args) -> int:
    _database().dispose()
    print("schema is at head", file=sys.stderr)
    return 0


def _seed_demo(args) -> int:
    from infra.clock import utc_now
    from workflows.demo import seed_demo_town
    from infra.settings import get_settings

    database = _database()
    print("seeding the demo town …", file=sys.stderr)
    _print_accounts(seed_demo_town(database, now=utc_now(), photo_dir=get_settings().photo_dir))
    database.dispose()
    return 0


def _print_accounts(accounts) -> None:
    print(f"\n{'role':<12} {'name':<14} {'sign in with':<14} how")
    for a in accounts:
        print(f"{a.role:<12} {a.name:<14} {a.login:<14} {a.note}")
    print()


def _serve(args) -> int:
    import shutil

    import uvicorn

    # Several workers keep their metrics in files, for /metrics to sum (wudan/metrics.py). Made
    # first, before anything here imports prometheus_client, which reads the variable once.
    multiprocess = args.workers > 1 or bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
    metrics_dir = _fresh_metrics_dir() if multiprocess else None
    try:
        if args.demo:
            _seed_demo(args)
        else:
            _migrate(args)  # once, before any worker process starts
        print(f"wudan on http://{args.host}:{args.port}  (API docs at /docs)", file=sys.stderr)
        uvicorn.run(
            "api.main:app", host=args.host, port=args.port, workers=args.workers, proxy_headers=True,
            log_config=None,  # api.main sets up the JSON logs, in every worker process
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _fresh_metrics_dir() -> str:
    """A new, empty directory for this start's worker processes, inside PROMETHEUS_MULTIPROC_DIR if it is set.

    Every process's file in the directory is summed: files left by an earlier start, or by
    another server sharing the directory, would add their counts to this one's. The workers,
    spawned after this, inherit the variable pointing at the new directory.
    """
    import tempfile
    from pathlib import Path

    parent = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    directory = tempfile.mkdtemp(prefix="wudan-metrics-", dir=parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    return directory


def _worker(args) -> int:
    from infra.clock import utc_now
    from infra.settings import get_settings
    from infra.wechat import WeChatClient
    from jobs.worker import Worker

    from infra.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    database = _database()
    wechat = WeChatClient(settings.wechat_api_base, settings.wechat_appid, settings.wechat_secret,
                          timeout=settings.wechat_timeout_seconds)
    worker = Worker(settings, database, utc_now, wechat)
    print(f"worker: sweep every {settings.sweep_interval_seconds:g}s, stats projection every "
          f"{settings.projection_interval_seconds:g}s, delivery every "
          f"{settings.delivery_interval_seconds:g}s, channels: {', '.join(worker.dispatcher.channels) or 'none'}",
          file=sys.stderr)
    try:
        worker.scheduler(blocking=True).start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        worker.close()
        wechat.close()
        database.dispose()
    return 0


def _create_town(args) -> int:
    from pydantic import ValidationError
    from sqlalchemy.exc import IntegrityError

    from storage.models import Staff, Town
    from workflows.hierarchy_inputs import StaffCreate, TownUpdate
    from infra.clock import utc_now
    from infra.passwords import hash_password

    password = os.environ.get("WUDAN_ADMIN_PASSWORD") or getpass.getpass("admin password: ")
    errors = []
    try:
        TownUpdate(name=args.name, timezone=args.timezone)
    except ValidationError as exc:
        errors += exc.errors()
    try:
        admin = StaffCreate(name=args.admin_name, phone=args.admin_phone, role="town_admin", password=password)
    except ValidationError as exc:
        errors += exc.errors()
    for error in errors:
        print(f"{'.'.join(map(str, error['loc']))}: {error['msg']}", file=sys.stderr)
    if errors:
        return 2
    database = _database()
    with database.session(write=True) as db:
        now = utc_now()
        try:
            town = Town(name=args.name, timezone=args.timezone, created_at=now)
            db.add(town)
            db.flush()
            db.add(Staff(town_id=town.id, role=admin.role, name=admin.name, phone=admin.phone,
                         password_hash=hash_password(admin.password), created_at=now))
            db.commit()
        except IntegrityError:
            print("a town with that name, or staff with that phone, already exists", file=sys.stderr)
            return 2
        print(f"town {town.id} {town.name} created; admin signs in with {admin.phone}")
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
