"""The bare FastAPI app the limit is measured on: one trivial endpoint, async and sync.

Its own module, so that the server factory in common.py and the driver in
bare_fastapi.py both import it without importing each other.
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI(title="bare")


@app.get("/ping")
async def ping() -> dict[str, bool]:
    return {"ok": True}


@app.get("/ping-sync")
def ping_sync() -> dict[str, bool]:
    """The same through the thread pool, as wudan's (sync) routes run."""
    return {"ok": True}
