# wudan (五单) API. Build: docker build -t wudan .
# Run:   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql://user:pass@db/wudan wudan
# Without DATABASE_URL it keeps SQLite in the /data volume. The schema is migrated on start.

# The build stage installs into a virtualenv; the image takes the virtualenv and the code,
# not pip's caches, the build tools or the tests.
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/venv/bin:$PATH

RUN python -m venv /venv
WORKDIR /app

# Dependencies first, in their own layer, so that a change to the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable on purpose: storage/migrate.py finds alembic/ and alembic.ini beside the source,
# which stays at /app in the image. .dockerignore leaves out tests, benchmarks and clients.
COPY . .
RUN pip install --no-deps -e .

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/venv/bin:$PATH \
    ENVIRONMENT=production \
    DATA_DIR=/data

# A numeric id, so that orchestrators can check it is not root without reading /etc/passwd.
RUN groupadd --system --gid 10001 wudan \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin wudan \
    && mkdir -p /data \
    && chown 10001:10001 /data

COPY --from=build /venv /venv
COPY --from=build /app /app
WORKDIR /app
VOLUME /data

USER 10001:10001
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["wudan", "serve", "--host", "0.0.0.0", "--port", "8000"]
