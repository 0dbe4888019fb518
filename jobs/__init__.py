"""The background work on APScheduler: the overdue sweep, delivery, upload cleanup."""
