"""What the service runs on, below the use cases: settings, the clock, tokens and passwords,
the WeChat client, metrics and logs. Nothing here knows the loop's rules or the web."""

__version__ = "0.1.0"
