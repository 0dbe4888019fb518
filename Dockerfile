# wudan (五单) API. Build: docker build -t wudan .
# Run:   docker run -p 8000:8000 -e SECRET_KEY=... -e DATABASE_URL=postgresql://user:pass@db/wudan wudan
# Without DATABASE_URL it keeps SQLite in the /data volume. The schema is migrated on start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --system --user-group --no-create-home --home-dir /app --shell /usr/sbin/nologin wudan

WORKDIR /app

# Dependencies first, in their own layer, so that a change to the code does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Editable on purpose: storage/migrate.py finds alembic/ and alembic.ini beside the source.
COPY . .
RUN pip install --no-cache-dir -e .

RUN mkdir -p /data && chown wudan:wudan /data
VOLUME /data

ENV ENVIRONMENT=production \
    DATA_DIR=/data

USER wudan
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

CMD ["wudan", "serve", "--host", "0.0.0.0", "--port", "8000"]
