#!/bin/sh
# The Miso controller stand-in's HTTP API: one request per connection (busybox nc -ll -e), the
# endpoints the vendor's CLI calls for the dataplane (esystemsdev/aifabrix-builder):
#   GET  /health                                               lib/commands/up-dataplane.js
#   POST /api/v1/auth/token (x-client-id, x-client-secret)     lib/api/auth.api.js, token-manager-refresh.js
#   GET  /api/v1/environments/{env}/applications/{app}          lib/api/environments.api.js (404: not registered)
#   POST /api/v1/environments/{env}/applications/register       lib/api/applications.api.js
#   POST /api/v1/environments/{env}/applications/{app}/rotate-secret
# Rules the real controller enforces: a client it does not know gets 401; the other calls need a
# bearer token it issued; an environment onboarding did not create (dev needs
# ONBOARDING_CREATE_DEV_ENV=true) is not found; key, displayName and type are required to register
# (lib/utils/app-register-validator.js); an app registers once (then rotate-secret).
# State (what the real controller keeps in its database) lives in the data volume.
STATE=/mnt/data/standin-controller

respond() {  # respond STATUS JSON
  printf 'HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
    "$1" "${#2}" "$2"
  exit 0
}
random() { od -An -tx1 -N24 /dev/urandom | tr -d ' \n'; }
field() { printf '%s' "$body" | sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p"; }

IFS= read -r request || exit 0
request=$(printf '%s' "$request" | tr -d '\r')
method=${request%% *}; rest=${request#* }; path=${rest%% *}; path=${path%%\?*}
len=0; auth=""; cid=""; csec=""
while IFS= read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  [ -z "$line" ] && break
  name=$(printf '%s' "${line%%:*}" | tr 'A-Z' 'a-z'); value=${line#*:}; value=${value# }
  case "$name" in
    content-length) len=$value ;;
    authorization) auth=${value#Bearer } ;;
    x-client-id) cid=$value ;;
    x-client-secret) csec=$value ;;
  esac
done
body=""
if [ "${len:-0}" -gt 0 ] 2>/dev/null; then body=$(head -c "$len"); fi

case "$method $path" in
  "GET /health"|"GET /api/v1/health"|"GET /standin-alive")
    [ -f /standin/sick ] && respond "503 Service Unavailable" '{"status":"error"}'
    respond "200 OK" '{"status":"ok"}' ;;
  "POST /api/v1/auth/token")
    ok=""
    if [ -n "$cid" ] && [ "$cid" = "$(cat $STATE/client-id)" ] && [ "$csec" = "$(cat $STATE/client-secret)" ]; then ok=1; fi
    for app in "$STATE"/apps/*; do
      [ -f "$app" ] || continue
      read -r aid asec < "$app"
      if [ -n "$cid" ] && [ "$cid" = "$aid" ] && [ "$csec" = "$asec" ]; then ok=1; fi
    done
    [ -n "$ok" ] || respond "401 Unauthorized" '{"success":false,"error":"Invalid client credentials"}'
    token=$(random); echo "$token" >> "$STATE/tokens"
    respond "200 OK" "{\"success\":true,\"data\":{\"token\":\"$token\",\"expiresIn\":3600}}" ;;
esac

# Everything else needs a bearer token this controller issued.
if [ -z "$auth" ] || ! grep -qx "$auth" "$STATE/tokens" 2>/dev/null; then
  respond "401 Unauthorized" '{"success":false,"error":"Authentication required"}'
fi
case "$path" in
  /api/v1/environments/*/applications/*) ;;
  *) respond "404 Not Found" '{"success":false,"error":"Not found"}' ;;
esac
tail=${path#/api/v1/environments/}; env=${tail%%/*}; tail=${tail#*/applications/}
[ -f "$STATE/env-$env" ] || respond "404 Not Found" "{\"success\":false,\"error\":\"Environment $env not found\"}"
mkdir -p "$STATE/apps"
case "$method $tail" in
  "POST register")
    key=$(field key)
    for f in key displayName type; do
      [ -n "$(field $f)" ] || respond "400 Bad Request" "{\"success\":false,\"error\":\"Validation failed: $f is required\"}"
    done
    [ -f "$STATE/apps/$env-$key" ] && respond "409 Conflict" "{\"success\":false,\"error\":\"Application $key already exists in $env\"}"
    id="miso-controller-$env-$key"; secret=$(random)
    echo "$id $secret" > "$STATE/apps/$env-$key"
    respond "201 Created" "{\"success\":true,\"data\":{\"application\":{\"key\":\"$key\",\"environment\":\"$env\"},\"credentials\":{\"clientId\":\"$id\",\"clientSecret\":\"$secret\"}}}" ;;
  "POST "*/rotate-secret)
    key=${tail%/rotate-secret}
    [ -f "$STATE/apps/$env-$key" ] || respond "404 Not Found" "{\"success\":false,\"error\":\"Application $key not found\"}"
    id="miso-controller-$env-$key"; secret=$(random)
    echo "$id $secret" > "$STATE/apps/$env-$key"
    respond "200 OK" "{\"success\":true,\"data\":{\"credentials\":{\"clientId\":\"$id\",\"clientSecret\":\"$secret\"},\"message\":\"Secret rotated\"}}" ;;
  "GET "*)
    [ -f "$STATE/apps/$env-$tail" ] || respond "404 Not Found" "{\"success\":false,\"error\":\"Application $tail not found\"}"
    respond "200 OK" "{\"success\":true,\"data\":{\"key\":\"$tail\",\"environment\":\"$env\"}}" ;;
esac
respond "404 Not Found" '{"success":false,"error":"Not found"}'
