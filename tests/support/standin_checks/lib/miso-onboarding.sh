#!/bin/sh
# The Miso controller stand-in's first-time onboarding (sourced by miso-controller.sh, and by the
# Azure registration program's test, which runs the API without the start-up checks): on an empty
# state it stores the controller's own client (MISO_CLIENTID/MISO_CLIENTSECRET) and the
# environments onboarding creates (miso; dev with ONBOARDING_CREATE_DEV_ENV=true).
STATE=/mnt/data/standin-controller
if [ ! -f "$STATE/onboarded" ]; then
  mkdir -p "$STATE/apps"
  printf '%s' "$MISO_CLIENTID" > "$STATE/client-id"
  printf '%s' "$MISO_CLIENTSECRET" > "$STATE/client-secret"
  touch "$STATE/env-miso"
  [ "${ONBOARDING_CREATE_DEV_ENV:-false}" = "true" ] && touch "$STATE/env-dev"
  touch "$STATE/onboarded"
fi
