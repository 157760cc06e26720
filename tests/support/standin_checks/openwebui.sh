#!/bin/sh
# Open WebUI start-up rules that concern fabrix's configuration.
# Arguments: the container's command; environment: the container's.
# Sources (open-webui/open-webui):
#  - backend/open_webui/env.py: DATA_DIR (default /app/backend/data) is created and written at
#    import (uploads, cache); config.py: UPLOAD_DIR.mkdir(parents=True, exist_ok=True). Python
#    reports a refused write as PermissionError and the server never starts.
#  - Dockerfile: UID=GID=0, /app owned by root: as any other user only the mounted data volume
#    is writable.

# DATABASE_URL goes to SQLAlchemy's create_engine (backend/open_webui/internal/db.py; env.py turns
# postgres:// into postgresql://): an unknown scheme stops the start with NoSuchModuleError.
case "${DATABASE_URL:-sqlite:///}" in
  sqlite:*|postgresql:*|postgresql+*:*|postgres:*|mysql:*|mysql+*:*) ;;
  *) echo "sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:${DATABASE_URL%%:*}" >&2; exit 1 ;;
esac

data=${DATA_DIR:-/app/backend/data}
if ! mkdir -p "$data/uploads" 2>/dev/null || ! touch "$data/.standin-write" 2>/dev/null; then
  echo "PermissionError: [Errno 13] Permission denied: '$data/uploads' (uid $(id -u), gid $(id -g))" >&2
  exit 1
fi
exit 0
