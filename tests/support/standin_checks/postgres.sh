#!/bin/sh
# PostgreSQL (pgvector/pgvector:pg15, the docker-library postgres entrypoint) start-up rules.
# Sources:
#  - docker-library/postgres docker-entrypoint.sh: an uninitialized data directory without
#    POSTGRES_PASSWORD stops with "Database is uninitialized and superuser password is not
#    specified."; /docker-entrypoint-initdb.d/* runs only on the first start (empty data
#    directory), so a role or password added later does not exist until the script is re-run.
#  - The init script's SQL (fabrix's initdb/10-fabrix-databases.sh) as psql runs it: `\set v
#    `printenv VAR`` then `ALTER ROLE "r" WITH LOGIN PASSWORD :'v'` and `CREATE DATABASE %I OWNER %I`.
# What the server "has" (roles with passwords, databases with owners) is kept in the data volume
# and served to the app stand-ins on this container's port (http://postgres:5432/standin-pg/catalog),
# which refuse a connection URL the way a real server refuses the login (lib/pg.sh).
PGDATA=${PGDATA:-/var/lib/postgresql/data}
CATALOG=$PGDATA/standin-catalog
mkdir -p "$PGDATA" /www/5432/standin-pg
if [ ! -f "$CATALOG" ]; then
  if [ -z "$POSTGRES_PASSWORD" ]; then
    echo "Error: Database is uninitialized and superuser password is not specified." >&2
    echo "       You must specify POSTGRES_PASSWORD to a non-empty value for the superuser." >&2
    exit 1
  fi
  {
    echo "role ${POSTGRES_USER:-postgres} $POSTGRES_PASSWORD"
    echo "database ${POSTGRES_DB:-${POSTGRES_USER:-postgres}} ${POSTGRES_USER:-postgres}"
  } > "$CATALOG.new"
  for script in /docker-entrypoint-initdb.d/*.sh; do
    [ -f "$script" ] || continue
    echo "/usr/local/bin/docker-entrypoint.sh: running $script"
    # The script's own guards (: "${VAR:?message}") stop the init as bash would.
    for var in $(sed -n 's/^: "\${\([A-Z0-9_]*\):?.*/\1/p' "$script"); do
      eval "val=\${$var}"
      if [ -z "$val" ]; then
        echo "$script: line 1: $var: $(sed -n "s/^: \"\${$var:?\(.*\)}\"$/\1/p" "$script")" >&2
        exit 1
      fi
    done
    awk '
      /^\\set [a-z0-9_]+ `printenv [A-Z0-9_]+`$/ { v = $2; e = $4; sub(/`$/, "", e); pw[v] = ENVIRON[e]; next }
      /^ALTER ROLE "[^"]+" WITH LOGIN PASSWORD :\x27[a-z0-9_]+\x27;$/ {
        role = $3; gsub(/"/, "", role); v = $NF; gsub(/[:\x27;]/, "", v)
        print "role " role " " pw[v]; next }
      /CREATE DATABASE %I OWNER %I/ {
        if (match($0, /\x27, \x27[^\x27]+\x27, \x27[^\x27]+\x27\)/)) {
          s = substr($0, RSTART + 4, RLENGTH - 6); split(s, a, "\x27, \x27"); print "database " a[1] " " a[2] }
        next }
    ' "$script" >> "$CATALOG.new" || exit 1
  done
  mv "$CATALOG.new" "$CATALOG"
else
  echo "PostgreSQL Database directory appears to contain a database; Skipping initialization"
fi
cp "$CATALOG" /www/5432/standin-pg/catalog
