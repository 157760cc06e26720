#!/bin/sh
# Dataplane start-up rules. The image is private; the rules follow what the vendor's template says
# (B = esystemsdev/aifabrix-builder templates/applications/dataplane/env.template, quoted per rule).
APP=dataplane
. /standin/lib/common.sh

# "Multiple-database layout: set all four URL env vars ... If any dedicated URL is unset, that
# database's tables use DATABASE_URL (main)."
require DATABASE_URL "B env.template: DATABASE_URL=kv://databases-dataplane-0-urlKeyVault"
for v in DATABASE_URL VECTOR_DATABASE_URL LOGS_DATABASE_URL RECORDS_DATABASE_URL; do
  eval "set_=\${$v}"
  [ -z "$set_" ] || check_pg_url "$v"
done

# "LOCAL_MODE: If true, run without Redis/Celery (single process)"; "When unset and LOCAL_MODE=true,
# a process-local ephemeral RSA keypair is used ... Non-local requires PEM keys."
if [ "${LOCAL_MODE:-false}" != "true" ]; then
  require CERTIFICATE_PRIVATE_KEY "B env.template: Non-local requires PEM keys (LOCAL_MODE is not true)"
  require CERTIFICATE_PUBLIC_KEY "B env.template: Non-local requires PEM keys (LOCAL_MODE is not true)"
  require REDIS_URL "B env.template: without LOCAL_MODE the dataplane runs Redis/Celery"
fi
[ -z "$REDIS_URL" ] || check_redis_url REDIS_URL

# Controller and Keycloak: "MISO_CONTROLLER_URL ... server-to-controller API calls",
# "KEYCLOAK_SERVER_URL ... Public", "KEYCLOAK_INTERNAL_SERVER_URL ... Internal", "KEYCLOAK_REALM".
check_http_url MISO_CONTROLLER_URL
check_http_url MISO_WEB_SERVER_URL
check_http_url KEYCLOAK_SERVER_URL
check_http_url KEYCLOAK_INTERNAL_SERVER_URL
require KEYCLOAK_REALM "B env.template: KEYCLOAK_REALM=aifabrix"
# "MISO Application Client Credentials (per application)" — issued by the controller's registration.
require MISO_CLIENTID "B env.template: MISO_CLIENTID=kv://dataplane-client-idKeyVault"
require MISO_CLIENTSECRET "B env.template: MISO_CLIENTSECRET=kv://dataplane-client-secretKeyVault"
# "Same kv:// as miso-controller API_KEY"; ENCRYPTION_KEY=kv://miso-controller-secrets-encryptionKeyVault.
require API_KEY "B env.template: API_KEY=kv://miso-controller-secrets-apiKeyVault (the controller's)"
require ENCRYPTION_KEY "B env.template: ENCRYPTION_KEY=kv://miso-controller-secrets-encryptionKeyVault (the controller's)"

# The client credentials must be ones the controller issued (registration, B lib/commands/up-dataplane.js):
# the controller answers POST /api/v1/auth/token for them, and refuses (401) anything else.
if ! wget -q -O /dev/null --header "x-client-id: $MISO_CLIENTID" --header "x-client-secret: $MISO_CLIENTSECRET" \
    --post-data '' "${MISO_CONTROLLER_URL%/}/api/v1/auth/token" 2>/tmp/token.err; then
  fail "the Miso controller refused MISO_CLIENTID/MISO_CLIENTSECRET (POST ${MISO_CONTROLLER_URL%/}/api/v1/auth/token: $(head -n 1 /tmp/token.err)); the dataplane must be registered with the controller first"
fi
exit 0
