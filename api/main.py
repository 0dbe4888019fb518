"""The ASGI application uvicorn serves: `uvicorn api.main:app` (each worker process imports it)."""

from api.app import create_app
from infra.logs import configure_logging
from infra.settings import get_settings

configure_logging(get_settings().log_level, get_settings().log_format)
app = create_app()
