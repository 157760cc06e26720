#!/bin/sh
# Miso controller start-up rules. The image is private; the rules follow what the vendor's template
# says the controller needs (B = esystemsdev/aifabrix-builder
# templates/applications/miso-controller/env.template, lines quoted with each rule).
APP=miso-controller
. /standin/lib/common.sh

# "Requirements: - Database connection (DATABASE_URL)"; DATABASELOG_URL: the logs database.
require DATABASE_URL "B env.template: DATABASE_URL=kv://databases-miso-controller-0-urlKeyVault"
require DATABASELOG_URL "B env.template: DATABASELOG_URL=kv://databases-miso-controller-1-urlKeyVault"
check_pg_url DATABASE_URL
check_pg_url DATABASELOG_URL
require REDIS_URL "B env.template: REDIS_URL=kv://redis-url"
check_redis_url REDIS_URL

# "DEPLOYMENT types: azure, azure-mock, local, database"; "Default: azure (Real Azure) if not set";
# azure "Requires valid Azure credentials (AZURE_SUBSCRIPTION_ID, AZURE_TENANT_ID, etc.)".
deployment=$(printf '%s' "${DEPLOYMENT:-azure}" | tr 'A-Z' 'a-z' | tr -d ' ')
case "$deployment" in
  azure-mock|database) ;;
  # "When miso-controller runs INSIDE a Docker container ... deployments will fail with docker: not found"
  local) fail "DEPLOYMENT=local runs \"docker run\" and this container has no docker: not found (B env.template: use DEPLOYMENT=database)" ;;
  *) for v in AZURE_SUBSCRIPTION_ID AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET; do
       require "$v" "B env.template: DEPLOYMENT=azure (the default) requires valid Azure credentials"; done ;;
esac

# Keycloak: "KEYCLOAK_SERVER_URL = Public URL", "KEYCLOAK_INTERNAL_SERVER_URL = Internal URL";
# WAIT_FOR_KEYCLOAK=true waits for it before onboarding.
require KEYCLOAK_REALM "B env.template: KEYCLOAK_REALM=aifabrix"
check_http_url KEYCLOAK_SERVER_URL
check_http_url KEYCLOAK_INTERNAL_SERVER_URL
require KEYCLOAK_CLIENT_ID "B env.template: KEYCLOAK_CLIENT_ID=kv://keycloak-client-idKeyVault"
require KEYCLOAK_CLIENT_SECRET "B env.template: KEYCLOAK_CLIENT_SECRET=kv://keycloak-client-secretKeyVault"
require KEYCLOAK_ADMIN_PASSWORD "B env.template: KEYCLOAK_ADMIN_PASSWORD=kv://keycloak-admin-passwordKeyVault"
if [ "${KEYCLOAK_EVENTS_ENABLED:-false}" = "true" ] && [ "${KEYCLOAK_EVENTS_VERIFY_SIGNATURE:-false}" = "true" ]; then
  require KEYCLOAK_EVENTS_SECRET "B env.template: events with signature verification need KEYCLOAK_EVENTS_SECRET"
fi

# First-time onboarding (runs on an empty database unless SKIP_FIRST_TIME_SETUP=true):
# "LOCATION ... required for first-time onboarding"; "ONBOARDING_ADMIN_PASSWORD: Required for admin
# user creation during onboarding".
if [ "${SKIP_FIRST_TIME_SETUP:-false}" != "true" ]; then
  require LOCATION "B env.template: Azure region (required for first-time onboarding)"
  require ONBOARDING_ADMIN_PASSWORD "B env.template: Required for admin user creation during onboarding"
  require KEYCLOAK_DEFAULT_PASSWORD "B env.template: KEYCLOAK_DEFAULT_PASSWORD=kv://keycloak-default-passwordKeyVault"
fi

# Its own URLs (OpenAPI server URLs, Keycloak callbacks) and client credentials.
check_http_url MISO_WEB_SERVER_URL
check_http_url MISO_CONTROLLER_URL
require ALLOWED_ORIGINS "B env.template: ALLOWED_ORIGINS=http://localhost:*,url://host-public,..."
require MISO_CLIENTID "B env.template: MISO_CLIENTID=kv://miso-controller-client-idKeyVault"
require MISO_CLIENTSECRET "B env.template: MISO_CLIENTSECRET=kv://miso-controller-client-secretKeyVault"
for v in ENCRYPTION_KEY JWT_SECRET API_KEY; do
  require "$v" "B lib/schema/infra.parameter.yaml: generated (randomBytes32)"
done

# First-time onboarding on an empty database ("Onboarding runs automatically when the database has
# no controller row"): the controller's own client and the environments (miso; dev with
# ONBOARDING_CREATE_DEV_ENV=true). Later starts keep what onboarding stored, as the database does.
. /standin/lib/miso-onboarding.sh
# The API (lib/miso-api.sh) serves port 3000 instead of the plain health files.
nc -ll -p "${PORT:-3000}" -e /standin/lib/miso-api.sh </dev/null >/dev/null 2>&1 &
echo "PORTS=''" > /tmp/standin.env
exit 0
