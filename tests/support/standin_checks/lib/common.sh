# Shared by the app stand-in checks (sourced): settings and connection URLs, refused the way the
# real app or its database/Redis server refuses them. Messages: PostgreSQL's own server errors
# (src/backend/libpq/auth.c "password authentication failed for user", src/backend/utils/init/
# postinit.c "database ... does not exist"; PostgreSQL 15 revoked CREATE on schema public from
# PUBLIC, so a role that does not own its database gets "permission denied for schema public" when
# the app creates its tables), node-postgres/libpq's "The server does not support SSL connections".

fail() {
  echo "$APP: $*" >&2
  exit 1
}

# require VAR "why (vendor source)": the setting must be present and non-empty.
require() {
  eval "val=\${$1}"
  [ -n "$val" ] || fail "$1 is required: $2"
}

url_decode() {  # %XX → byte
  printf '%b' "$(printf '%s' "$1" | sed 's/+/ /g; s/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')"
}

# check_http_url VAR: an absolute http(s) URL.
check_http_url() {
  eval "val=\${$1}"
  case "$val" in
    http://?*|https://?*) ;;
    *) fail "$1 must be an absolute http(s) URL, got '$val'" ;;
  esac
}

# check_pg_url VAR: postgresql://user:password@host:port/database[?sslmode=...] whose role,
# password and database exist on the server (the postgres stand-in's catalog), the role owning it.
check_pg_url() {
  eval "url=\${$1}"
  case "$url" in
    postgresql://*|postgres://*) ;;
    *) fail "$1: invalid connection URL (expected postgresql://user:password@host:port/database)" ;;
  esac
  rest=${url#*://}
  case "$rest" in *@*) ;; *) fail "$1: the connection URL has no user and password" ;; esac
  creds=${rest%%@*}; hostpart=${rest#*@}
  user=$(url_decode "${creds%%:*}"); password=$(url_decode "${creds#*:}")
  [ "$creds" != "${creds#*:}" ] || password=""
  hostport=${hostpart%%/*}; dbq=${hostpart#*/}
  [ "$dbq" != "$hostpart" ] || fail "$1: the connection URL names no database"
  db=$(url_decode "${dbq%%\?*}"); query=""
  case "$dbq" in *\?*) query=${dbq#*\?} ;; esac
  host=${hostport%%:*}; port=${hostport#*:}; [ "$port" != "$hostport" ] || port=5432
  case "$port" in ''|*[!0-9]*) fail "$1: invalid port '$port' in the connection URL" ;; esac
  case "&$query&" in
    *"&sslmode=require&"*|*"&sslmode=verify-ca&"*|*"&sslmode=verify-full&"*)
      fail "$1: The server does not support SSL connections" ;;  # the local server has no TLS
  esac
  catalog=""
  i=0
  while [ $i -lt 30 ]; do
    catalog=$(wget -q -O - "http://$host:$port/standin-pg/catalog" 2>/dev/null) && break
    i=$((i + 1)); sleep 1
  done
  [ -n "$catalog" ] || fail "$1: connect ECONNREFUSED $host:$port (no PostgreSQL there)"
  stored=$(printf '%s\n' "$catalog" | awk -v u="$user" '$1 == "role" && $2 == u { print substr($0, length("role " u " ") + 1); found = 1 } END { if (!found) exit 1 }') \
    || fail "$1: FATAL: password authentication failed for user \"$user\""
  [ "$stored" = "$password" ] || fail "$1: FATAL: password authentication failed for user \"$user\""
  owner=$(printf '%s\n' "$catalog" | awk -v d="$db" '$1 == "database" && $2 == d { print $3; found = 1 } END { if (!found) exit 1 }') \
    || fail "$1: FATAL: database \"$db\" does not exist"
  [ "$owner" = "$user" ] || fail "$1: ERROR: permission denied for schema public (role \"$user\" does not own database \"$db\")"
}

# check_redis_url VAR: redis://[[user]:password@]host:port[/db] or rediss://... (ioredis/redis-py URL forms).
check_redis_url() {
  eval "url=\${$1}"
  case "$url" in
    redis://?*|rediss://?*) ;;
    *) fail "$1: invalid Redis URL '${url%%:*}:...' (expected redis:// or rediss://)" ;;
  esac
  rest=${url#*://}; hostpart=${rest#*@}; hostport=${hostpart%%/*}
  case "$rest" in
    *@*) creds=${rest%%@*}
         # '/', '?' or '#' end the authority: a key with them unencoded breaks the URL (RFC 3986 §3.2).
         case "$creds" in *[/?#]*) fail "$1: Invalid URL: the Redis password is not URL-encoded" ;; esac ;;
  esac
  port=${hostport##*:}
  case "$port" in ''|*[!0-9]*) fail "$1: invalid port in the Redis URL" ;; esac
}
