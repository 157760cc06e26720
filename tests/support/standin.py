"""Stand-in images for every catalog component, built locally from Debian's static busybox.

No registry is reachable in CI, so the e2e tests (and the bench, and the TUI's tests) run the real
``fabrix up`` against tiny images that behave like the platform's as far as Compose can tell: each
serves its component's ``http_health`` path (and a liveness file) with busybox httpd on its
container port(s), and ships shims so the catalog's *real* health commands pass (``pg_isready``,
``redis-cli``, ``curl``, ``traefik``; ``wget`` and ``sh`` are busybox). The ``sick`` variant
serves nothing healthy, so its health check fails with a clear message.

Images are made with ``docker import`` from a tarball built here (no Dockerfile, no registry) and
tagged ``fabrix-standin/<component>:test`` / ``:sick``; a content hash label skips rebuilding.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import yaml

from installer.catalog import Catalog, load_catalog

BUSYBOX = Path("/bin/busybox")
# Per-component configuration rules, as busybox sh scripts: <component>.sh exits non-zero with the
# real app's error message when the configuration is one the real app refuses.
CHECKS_DIR = Path(__file__).with_name("standin_checks")
REPO = "fabrix-standin"
HASH_LABEL = "dev.aifabrix.fabrix.standin-hash"

_RUN = r"""#!/bin/sh
# Stand-in entrypoint: serve each port with busybox httpd. The real image's command arrives as
# arguments; a component's configuration rules (/standin/check, from tests/support/standin_checks/)
# see them and the environment, and refuse to start the way the real app does.
# Health files exist only in the healthy variant.
. /standin/config
if [ -x /standin/check ]; then
  /standin/check "$@" || { echo "stand-in $COMPONENT: configuration refused (see above)" >&2; exit 1; }
fi
# A check may say where the real app would serve its health endpoints (HEALTH=...).
if [ -f /tmp/standin.env ]; then . /tmp/standin.env; fi
for port in $PORTS; do
  mkdir -p "/www/$port"
  if [ ! -f /standin/sick ]; then echo alive > "/www/$port/standin-alive"; fi
done
if [ ! -f /standin/sick ]; then
  for entry in $HEALTH; do
    port=${entry%%:*}; path=${entry#*:}
    case "$path" in */) path="${path}index.html" ;; esac
    mkdir -p "/www/$port$(dirname "$path")"
    echo '{"status": "UP"}' > "/www/$port$path"
  done
fi
for port in $PORTS; do httpd -p "$port" -h "/www/$port"; done
echo "stand-in $COMPONENT up on ports $PORTS"
exec sleep 2147483647
"""

_ALIVE = r"""#!/bin/sh
# Succeeds when the stand-in serves its liveness file on its main port; the sick one never does.
. /standin/config
if wget -q -O /dev/null "http://127.0.0.1:$MAIN_PORT/standin-alive" 2>/dev/null; then exit 0; fi
echo "stand-in $COMPONENT is sick: health check fails on purpose" >&2
exit 1
"""

_SHIMS = {
    "pg_isready": "#!/bin/sh\n/standin/alive || exit 2\necho '/var/run/postgresql:5432 - accepting connections'\n",
    "redis-cli": "#!/bin/sh\n/standin/alive || exit 1\necho PONG\n",
    "traefik": "#!/bin/sh\n/standin/alive || exit 1\necho OK: http://:80/ping\n",
    # curl → busybox wget: enough for `curl -fsS URL`.
    "curl": '#!/bin/sh\nfor a in "$@"; do case "$a" in http*) url="$a" ;; esac; done\n'
            'exec wget -q -O - "$url"\n',
}


# Directories of the real images that decide who may write where: (path, uid, gid, mode), from
# each image's Dockerfile. A stand-in run as another user (AKS runs them non-root) then fails at
# the same paths the real app would; the checks in standin_checks/ write where the app writes.
IMAGE_DIRS: dict[str, list[tuple[str, int, int, int]]] = {
    # keycloak/keycloak quarkus/container/Dockerfile: COPY --chown=1000:0, chmod -R g+rwX, USER 1000.
    "keycloak": [("opt", 0, 0, 0o755), ("opt/keycloak", 1000, 0, 0o775), ("opt/keycloak/data", 1000, 0, 0o775),
                 ("opt/keycloak/lib", 1000, 0, 0o775), ("opt/keycloak/lib/quarkus", 1000, 0, 0o775)],
    # FlowiseAI/Flowise docker/Dockerfile (node:alpine, no USER): root, /root is 0700 on Alpine.
    "flowise": [("root", 0, 0, 0o700)],
    # open-webui/open-webui Dockerfile: UID=GID=0, chown -R 0:0 /app /root; python:slim /root 0700.
    "openwebui": [("root", 0, 0, 0o700), ("app", 0, 0, 0o755), ("app/backend", 0, 0, 0o755),
                  ("app/backend/data", 0, 0, 0o755), ("app/backend/open_webui", 0, 0, 0o755),
                  ("app/backend/open_webui/static", 0, 0, 0o755)],
}


def image_ref(component: str, sick: bool = False) -> str:
    return f"{REPO}/{component}:{'sick' if sick else 'test'}"


def _ports(catalog: Catalog, component: str) -> tuple[list[int], list[str]]:
    comp = catalog.components[component]
    ports = [comp.port]
    health: list[str] = []
    if comp.http_health is not None:
        if comp.http_health.port not in ports:
            ports.append(comp.http_health.port)
        health.append(f"{comp.http_health.port}:{comp.http_health.path}")
    return ports, health


def _tarball(catalog: Catalog, component: str, sick: bool) -> bytes:
    ports, health = _ports(catalog, component)
    config = (f"COMPONENT={component}\nPORTS='{' '.join(map(str, ports))}'\nMAIN_PORT={ports[0]}\n"
              f"HEALTH='{' '.join(health)}'\n")
    applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        def add(path: str, data: bytes, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        def mkdir(path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
            info = tarfile.TarInfo(path)
            info.type, info.mode, info.mtime, info.uid, info.gid = tarfile.DIRTYPE, mode, 0, uid, gid
            tar.addfile(info)

        for d in ("bin", "usr", "usr/local", "usr/local/bin", "standin", "etc"):
            mkdir(d)
        # Writable by any user, so the stand-in itself also runs under a non-root security context.
        mkdir("tmp", 0o1777)
        mkdir("www", 0o1777)
        for path, uid, gid, mode in IMAGE_DIRS.get(component, []):
            mkdir(path, mode, uid, gid)
        add("bin/busybox", BUSYBOX.read_bytes())
        for applet in sorted(set(applets) - {"busybox"}):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname, info.mtime = tarfile.SYMTYPE, "busybox", 0
            tar.addfile(info)
        add("standin/run", _RUN.encode())
        add("standin/alive", _ALIVE.encode())
        add("standin/config", config.encode(), 0o644)
        check = CHECKS_DIR / f"{component}.sh"
        if check.is_file():
            add("standin/check", check.read_bytes())
            # Shared rule helpers (connection URLs against the postgres stand-in's catalog, ...).
            mkdir("standin/lib")
            for lib in sorted((CHECKS_DIR / "lib").glob("*.sh")):
                add(f"standin/lib/{lib.name}", lib.read_bytes(), 0o755)
        if sick:
            add("standin/sick", b"sick\n", 0o644)
        for name, body in _SHIMS.items():
            add(f"usr/local/bin/{name}", body.encode())
        add("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644)
        add("etc/group", b"root:x:0:\n", 0o644)
    return buf.getvalue()


def build_standin(component: str, sick: bool = False, catalog: Catalog | None = None) -> str:
    """Build (or reuse) the stand-in image of ``component``; returns its reference."""
    catalog = catalog or load_catalog()
    data = _tarball(catalog, component, sick)
    digest = hashlib.sha256(data).hexdigest()[:16]
    ref = image_ref(component, sick)
    have = subprocess.run(["docker", "image", "inspect", "--format", f'{{{{index .Config.Labels "{HASH_LABEL}"}}}}', ref],
                          capture_output=True, text=True)
    if have.returncode == 0 and have.stdout.strip() == digest:
        return ref
    changes = [
        'ENTRYPOINT ["/standin/run"]',
        "ENV PATH=/usr/local/bin:/bin",
        f"LABEL {HASH_LABEL}={digest}",
    ]
    cmd = ["docker", "import"]
    for change in changes:
        cmd += ["--change", change]
    cmd += ["-", ref]
    subprocess.run(cmd, input=data, capture_output=True, check=True)
    return ref


def start_and_read(ref: str, run_args: list[str], args: list[str], wait_s: float = 30) -> str:
    """Run ``ref`` detached (``docker run -d RUN_ARGS REF ARGS``) until it serves or stops by
    itself; returns its log (a refused configuration's message, or the "up on ports" line) and
    removes the container. A stand-in that accepts its configuration serves forever."""
    import time

    cid = subprocess.run(["docker", "run", "-d", *run_args, ref, *args],
                         capture_output=True, text=True, check=True).stdout.strip()
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            logs = subprocess.run(["docker", "logs", cid], capture_output=True, text=True)
            running = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", cid],
                                     capture_output=True, text=True).stdout.strip()
            if "up on ports" in logs.stdout or running != "true":
                return logs.stdout + logs.stderr
            time.sleep(0.2)
        return "timed out"
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True)


def build_all(components: list[str] | None = None, sick: tuple[str, ...] = ()) -> dict[str, str]:
    """Stand-ins for ``components`` (default: every catalog component), plus sick variants."""
    catalog = load_catalog()
    refs = {c: build_standin(c, catalog=catalog) for c in (components or list(catalog.components))}
    for c in sick:
        build_standin(c, sick=True, catalog=catalog)
    return refs


def standin_overrides(components: list[str], sick: tuple[str, ...] = ()) -> dict[str, str]:
    return {c: image_ref(c, sick=c in sick) for c in components}


def write_answers(path: Path, name: str, components: list[str] | None = None, sick: tuple[str, ...] = (),
                  ports: dict[str, int] | None = None, extra: dict | None = None) -> Path:
    """An answers file for install ``name`` running on stand-ins (``images.overrides``, ``pull: never``).

    ``components=None`` means the catalog's default evaluation profile; ``ports`` overrides host
    ports (tests pick free ones so they never collide with a developer's running services)."""
    from installer.plan import InstallPlan

    plan_components = components
    enabled = InstallPlan(name=name, components=components).enabled_components()
    build_all(enabled, sick=tuple(sick))
    data: dict = {"apiVersion": "fabrix/v1", "name": name, "model": "container", "target": "compose"}
    if plan_components is not None:
        data["components"] = plan_components
    data["images"] = {"pull": "never", "overrides": standin_overrides(enabled, tuple(sick))}
    if ports:
        data["compose"] = {"ports": ports}
    if extra:
        data.update(extra)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def free_ports(components: list[str]) -> dict[str, int]:
    """A free host port per component with a host port (bound briefly to prove it is free)."""
    import socket

    catalog = load_catalog()
    out: dict[str, int] = {}
    socks = []
    for c in components:
        if catalog.components[c].host_port is None:
            continue
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        out[c] = s.getsockname()[1]
    for s in socks:
        s.close()
    return out


if __name__ == "__main__":  # build them all by hand: python -m tests.support.standin
    print(json.dumps(build_all(sick=tuple(load_catalog().components)), indent=2))
