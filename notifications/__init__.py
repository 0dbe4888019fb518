"""Delivery of outbox rows through channels (in-app, WeChat, WeCom, webhook)."""
