#!/bin/sh
# Flowise start-up rules that concern fabrix's configuration.
# Arguments: the container's command; environment: the container's.
# Sources (FlowiseAI/Flowise):
#  - packages/server/src/utils/index.ts getUserHome: $HOME, else the working directory; the server
#    keeps its files in $HOME/.flowise (DataSource.ts, SessionPersistance.ts, the secret key path,
#    storage and logs), creating the folder at start. The published image (docker/Dockerfile)
#    runs as root and sets no HOME; a user without a home gets HOME=/ from the runtime.
#  - Node reports a refused mkdir as "Error: EACCES: permission denied, mkdir '<path>'" and the
#    server exits.

home=${HOME:-$(pwd)}
if ! mkdir -p "$home/.flowise" 2>/dev/null || ! touch "$home/.flowise/.standin-write" 2>/dev/null; then
  echo "Error: EACCES: permission denied, mkdir '$home/.flowise' (uid $(id -u), gid $(id -g))" >&2
  exit 1
fi
exit 0
