#!/bin/sh
# Keycloak 26 start-up rules, as the real server applies them before it serves anything.
# Arguments: the container's command (kc.sh's arguments); environment: the container's.
# Sources (messages as Keycloak prints them):
#  - kc.sh without a command prints its usage and exits (quay.io/keycloak/keycloak has
#    ENTRYPOINT kc.sh and no CMD; aifabrix-builder templates/applications/keycloak/Dockerfile adds
#    CMD ["start-dev"]).
#  - hostname v2 (keycloak quarkus runtime HostnameV2ProviderFactory, and its tests
#    testBackchannelDynamicRequiresHostname / ...RequiresFullHostnameUrl).
#  - production profile: "either --hostname or --hostname-strict false must be explicitly
#    configured" and HTTPS key material unless http-enabled (Keycloak guide "Configuring the hostname",
#    "Configuring TLS").
#  - health endpoints only with health-enabled, on the management port 9000 unless
#    http-management-health-enabled=false (Keycloak guides "Health checks", "Management interface").
# Every refusal exits 1 like the real server; the stand-in then never becomes healthy.

fail() {
  echo "ERROR: $*" >&2
  echo "For more details run the same command passing the '--verbose' option." >&2
  exit 1
}

command=$1
case "$command" in
  "")
    echo "Usage: kc.sh [OPTIONS] [COMMAND]" >&2
    echo "Keycloak - Open Source Identity and Access Management" >&2
    echo "Commands: build, start, start-dev, export, import, show-config, tools" >&2
    exit 2 ;;
  start|start-dev) shift ;;
  -*) fail "Unknown option: '$command'" ;;
  *) fail "Unmatched argument at index 0: '$command'" ;;
esac

# Command-line options win over KC_* environment variables, as in Keycloak.
for arg in "$@"; do
  case "$arg" in
    --hostname=*) KC_HOSTNAME=${arg#*=} ;;
    --hostname-strict=*) KC_HOSTNAME_STRICT=${arg#*=} ;;
    --hostname-backchannel-dynamic=*) KC_HOSTNAME_BACKCHANNEL_DYNAMIC=${arg#*=} ;;
    --http-enabled=*) KC_HTTP_ENABLED=${arg#*=} ;;
    --health-enabled=*) KC_HEALTH_ENABLED=${arg#*=} ;;
    --proxy-headers=*) KC_PROXY_HEADERS=${arg#*=} ;;
    --optimized|--verbose) ;;
    --*=*) ;;
    *) fail "Unmatched argument: '$arg'" ;;
  esac
done

if [ -n "${KC_HTTP_RELATIVE_PATH+set}" ] && [ -z "$KC_HTTP_RELATIVE_PATH" ]; then
  fail "SRCFG00040: The config property kc.http-relative-path is defined as the empty String (\"\") which the following Converter considered to be null"
fi
case "${KC_PROXY_HEADERS:-}" in
  ""|forwarded|xforwarded) ;;
  *) fail "Invalid value for option '--proxy-headers': ${KC_PROXY_HEADERS}. Expected values are: forwarded, xforwarded" ;;
esac

backchannel_dynamic=${KC_HOSTNAME_BACKCHANNEL_DYNAMIC:-false}
if [ "$backchannel_dynamic" = true ]; then
  if [ -z "${KC_HOSTNAME:-}" ]; then
    fail "hostname-backchannel-dynamic must be set to false when no hostname is provided"
  fi
  case "$KC_HOSTNAME" in
    http://?*|https://?*) ;;
    *) fail "hostname-backchannel-dynamic must be set to false if hostname is not provided as full URL" ;;
  esac
fi
case "${KC_HOSTNAME:-}" in
  *://*) case "$KC_HOSTNAME" in http://?*|https://?*) ;; *) fail "Provided hostname is neither a plain hostname nor a valid URL" ;; esac ;;
esac

if [ "$command" = start ]; then
  if [ -z "${KC_HOSTNAME:-}" ] && [ "${KC_HOSTNAME_STRICT:-true}" != false ]; then
    fail "hostname is not configured; either configure hostname, or set hostname-strict to false"
  fi
  if [ "${KC_HTTP_ENABLED:-false}" != true ] && [ -z "${KC_HTTPS_CERTIFICATE_FILE:-}${KC_HTTPS_KEY_STORE_FILE:-}" ]; then
    fail "Key material not provided to setup HTTPS. Please configure your keys/certificates or start the server in development mode."
  fi
fi

if [ "${KC_DB:-dev-file}" != dev-file ] && [ -z "${KC_DB_URL:-}${KC_DB_URL_HOST:-}" ]; then
  echo "WARN: no database host given; Keycloak tries localhost" >&2
fi

# Writable paths (keycloak/keycloak quarkus/container/Dockerfile: /opt/keycloak is 1000:0 with
# g+rwX, so any uid with gid 0 may write): every start writes data/tmp; `start` re-augments the
# Quarkus app into lib/quarkus when build options (db, health, cache) differ from the image's.
# Java reports a refused write as java.nio.file.AccessDeniedException and the server stops.
if [ -d /opt/keycloak ]; then
  for dir in /opt/keycloak/data/tmp /opt/keycloak/lib/quarkus; do
    if [ "$dir" = /opt/keycloak/lib/quarkus ] && [ "$command" != start ]; then continue; fi
    if ! mkdir -p "$dir" 2>/dev/null || ! touch "$dir/.standin-write" 2>/dev/null; then
      fail "Failed to start server in (production) mode: java.nio.file.AccessDeniedException: $dir (uid $(id -u), gid $(id -g); the image lets gid 0 write /opt/keycloak)"
    fi
  done
fi

# Where the real server answers its health checks: nowhere without health-enabled, else on the
# management port 9000 (or the main port when management health is off).
if [ "${KC_HEALTH_ENABLED:-false}" != true ]; then
  echo "HEALTH=''" > "${STANDIN_ENV_FILE:-/tmp/standin.env}"
elif [ "${KC_HTTP_MANAGEMENT_HEALTH_ENABLED:-true}" = false ]; then
  echo "HEALTH='8080:/health/ready 8080:/health/live 8080:/health/started'" > "${STANDIN_ENV_FILE:-/tmp/standin.env}"
else
  echo "HEALTH='9000:/health/ready 9000:/health/live 9000:/health/started'" > "${STANDIN_ENV_FILE:-/tmp/standin.env}"
fi
exit 0
