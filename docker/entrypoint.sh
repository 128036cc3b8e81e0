#!/bin/sh
# Wait for the database, apply the migrations, then run the command (the dashboard by default).
set -e
python - <<'PY'
import sys, time
import sqlalchemy as sa
from observatoire.localdb import database_urls
from observatoire.settings import get_settings

_, admin_url = database_urls(get_settings())
engine = sa.create_engine(admin_url)
for attempt in range(60):
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        break
    except Exception:
        print("En attente de la base de données…", flush=True)
        time.sleep(2)
else:
    sys.exit("La base de données ne répond pas.")
PY
observatoire db upgrade
if [ "${OBS_LOAD_DEMO:-0}" = "1" ]; then observatoire demo --no-serve; fi
exec "$@"
