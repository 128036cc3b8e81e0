# Observatoire: the dashboard and the CLI. The database is a separate PostGIS service (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 OBS_HOME=/data OBS_ENVIRONMENT=production
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 observatoire

WORKDIR /app
# The exact versions of requirements.lock first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY pyproject.toml README.md ./
COPY observatoire ./observatoire
COPY ingest ./ingest
COPY dashboard ./dashboard
COPY sample_data ./sample_data
COPY migrations ./migrations
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh
# Editable install: migrations/ is read beside the packages.
RUN pip install --no-deps -e . && mkdir -p /data && chown observatoire /data

USER observatoire
EXPOSE 8050
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["observatoire", "serve", "--host", "0.0.0.0", "--port", "8050"]
