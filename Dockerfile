# Observatoire: the dashboard and the CLI. The database is a separate PostGIS service (docker-compose.yml).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 OBS_HOME=/data OBS_ENVIRONMENT=production
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 observatoire

WORKDIR /app
# The exact versions of requirements.lock first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN pip install -r requirements.lock
# Then the product itself, a normal install: the migrations ship inside the package
# (observatoire/migrations), so nothing is read from the sources, which go once installed.
COPY pyproject.toml README.md /tmp/src/
COPY observatoire /tmp/src/observatoire
COPY ingest /tmp/src/ingest
COPY dashboard /tmp/src/dashboard
COPY sample_data /tmp/src/sample_data
COPY migrations /tmp/src/migrations
RUN pip install --no-deps /tmp/src && rm -rf /tmp/src && mkdir -p /data && chown observatoire /data
COPY docker/entrypoint.sh /usr/local/bin/entrypoint.sh

USER observatoire
EXPOSE 8050
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["observatoire", "serve", "--host", "0.0.0.0", "--port", "8050"]
