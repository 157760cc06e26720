"""The Docker Compose blueprint: plan + catalog + secrets → a bundle ``docker compose up`` runs as is.

Bundle files (``BUNDLE_FILES`` names the fixed ones):

- ``compose.yaml``: fixed project ``name:``, one service per enabled component, one network,
  one named volume per component data volume; every object labelled with the install.
- ``.env`` (mode 0600): the generated secrets of the enabled components. Compose reads ``.env``
  from the project folder for ``${VAR}`` interpolation, so ``docker compose up`` works by hand
  from the bundle folder. Secret values appear nowhere else in the bundle.
- ``initdb/10-fabrix-databases.sh``: roles, databases and extensions for Postgres, mounted into
  ``/docker-entrypoint-initdb.d`` (first start) and idempotent, so it can be re-run by hand.
- ``traefik/traefik.yml`` + ``traefik/dynamic.yml``: the front door's static config and its
  file-provider routes ``<route.host>.localhost`` → component. No Docker socket.
- ``README.md``: URLs, first logins, how to start/stop/remove by hand.

Names the launch relies on (see the helpers below): project ``fabrix-<install>``, network
``fabrix-<install>_platform``, volumes ``fabrix-<install>_<component>-<volume>``. The run id
label is ``${FABRIX_RUN_ID:-manual}`` on services only, so the render stays deterministic and a
re-run never sees a volume or network whose config changed.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

from installer.catalog import Catalog, Component, EnvValue
from installer.errors import UsageError
from installer.labels import LABEL_COMPONENT, LABEL_INSTALL, LABEL_MANAGED, LABEL_RUN, project_name
from installer.plan import InstallPlan
from installer.render import RenderInput
from installer.render.bundle import Bundle
from installer.render.templating import render_template
from installer.connections import (
    DEFAULT_LOCATION,
    REDIS_PORT,
    allowed_origins,
    compose_database_values,
    compose_database_vars,
    database_url_var,
    redis_url,
)
from installer.secrets import env_name, secrets_for

NETWORK_KEY = "platform"
FRONT_DOOR = "traefik"
POSTGRES = "postgres"
INITDB_SCRIPT = "initdb/10-fabrix-databases.sh"
RUN_ID_VAR = "FABRIX_RUN_ID"
RUN_ID_VALUE = "${" + RUN_ID_VAR + ":-manual}"
BUNDLE_FILES = ("compose.yaml", ".env", "README.md")  # always present (.env: when secrets are given)

# Short stop grace: with `init: true` every process gets SIGTERM forwarded, so a stop is quick;
# data services keep a little longer to flush to disk.
STOP_GRACE = {"data": "10s", "app": "5s", "frontdoor": "3s", "tool": "3s"}

# Values Compose would otherwise interpolate: literal "$" must be written "$$".
_SAFE_ENV_VALUE = re.compile(r"^[A-Za-z0-9_./:@+=,-]*$")


# ---- names the launch, status and teardown rely on -------------------------------------------


def network_name(plan: InstallPlan) -> str:
    return f"{project_name(plan.name)}_{NETWORK_KEY}"


def volume_key(component: str, volume: str) -> str:
    return f"{component}-{volume}"


def volume_name(plan: InstallPlan, component: str, volume: str) -> str:
    """The Docker volume name Compose creates: ``<project>_<component>-<volume>``."""
    return f"{project_name(plan.name)}_{volume_key(component, volume)}"


def data_dir(plan: InstallPlan) -> Path | None:
    """``compose.data_dir`` as an absolute path (``~`` expanded), or None when unset."""
    if plan.compose.data_dir is None:
        return None
    from installer.plan import expand_user_path

    path = expand_user_path(plan.compose.data_dir)
    if not path.is_absolute():
        raise UsageError(
            f"compose.data_dir: {plan.compose.data_dir!r} is not an absolute path",
            "use an absolute folder such as /srv/fabrix-data (or ~/fabrix-data)",
        )
    return path


def volume_host_dir(plan: InstallPlan, component: str, volume: str) -> Path | None:
    """Host folder a data volume is bound to when ``compose.data_dir`` is set (must exist before up)."""
    base = data_dir(plan)
    if base is None:
        return None
    return base / (component if volume == "data" else volume_key(component, volume))


def volume_host_dirs(plan: InstallPlan, catalog: Catalog) -> list[Path]:
    """Every host folder the launch must create before ``up`` (empty without a data dir)."""
    dirs = []
    for name in plan.enabled_components(catalog):
        for vol in catalog.components[name].volumes:
            folder = volume_host_dir(plan, name, vol.name)
            if folder is not None:
                dirs.append(folder)
    return dirs


def public_host(plan: InstallPlan) -> str:
    """The host a browser on this machine uses: localhost for loopback/any, else the bind address."""
    addr = ipaddress.ip_address(plan.compose.bind_address)
    if addr.is_loopback or addr.is_unspecified:
        return "localhost"
    return f"[{addr}]" if addr.version == 6 else str(addr)


def front_door_url(plan: InstallPlan, catalog: Catalog, component: str) -> str | None:
    """``http://<route.host>.localhost[:port]`` when Traefik runs and the component has a route."""
    comp = catalog.components[component]
    if comp.route is None or FRONT_DOOR not in plan.enabled_components(catalog):
        return None
    if public_host(plan) != "localhost":
        return None  # *.localhost resolves to loopback, where a port bound to another address is not
    port = plan.host_port(FRONT_DOOR, catalog)
    if port is None:
        return None
    suffix = "" if port == 80 else f":{port}"
    return f"http://{comp.route.host}.localhost{suffix}"


def service_address(comp: Component, host: str, port: int) -> str:
    """How a person reaches a published component: a URL for http, a connection string for the
    databases (with the admin role the bundle README names), ``host:port`` otherwise. The launch
    summary and the wizard's install view both use it, so they never name a database port as a
    web page."""
    if comp.protocol == "http":
        return f"http://{host}:{port}/"
    if comp.name == "postgres":
        return f"postgresql://pgadmin@{host}:{port}/postgres"
    if comp.name == "redis":
        return f"redis://{host}:{port}"
    return f"{host}:{port}"


def host_url(plan: InstallPlan, catalog: Catalog, component: str) -> str | None:
    """The URL on the published host port (http components only)."""
    comp = catalog.components[component]
    port = plan.host_port(component, catalog)
    if port is None or comp.protocol != "http":
        return None
    return f"http://{public_host(plan)}:{port}"


def public_url(plan: InstallPlan, catalog: Catalog, component: str) -> str:
    return (
        front_door_url(plan, catalog, component)
        or host_url(plan, catalog, component)
        or f"http://{component}:{catalog.components[component].port}"
    )


# ---- value helpers ---------------------------------------------------------------------------


def _escape(value: str) -> str:
    return value.replace("$", "$$")


def _secret_ref(secret: str) -> str:
    var = env_name(secret)
    return "${" + var + ":?" + var + " missing from .env}"


def _ref(var: str) -> str:
    return "${" + var + ":?" + var + " missing from .env}"


def resolve_env(value: EnvValue, plan: InstallPlan, catalog: Catalog, component: str | None = None) -> str:
    """One catalog env value (see the head of assets/catalog.yaml) as Compose writes it."""
    if isinstance(value, str):
        return _escape(value)
    if len(value) != 1:
        raise ValueError(f"env value must have exactly one key: {value!r}")
    ((kind, arg),) = value.items()
    if kind == "secret":
        return _secret_ref(str(arg))
    if kind == "database_url":
        # Composed from the role's password: a secret, so it lives in .env (see env_file).
        if component is None:
            raise ValueError("a database_url value needs its component")
        return _ref(database_url_var(catalog.components[component], str(arg)))
    if kind == "redis_url":
        return redis_url("redis", REDIS_PORT)  # the local Redis has no password (vendor's infra)
    if kind == "location":
        return _escape(plan.azure.location or DEFAULT_LOCATION)
    if kind == "allowed_origins":
        assert isinstance(arg, list)
        urls = []
        for other in arg:
            urls += [public_url(plan, catalog, other), f"http://{other}:{catalog.components[other].port}"]
        return _escape(allowed_origins(urls))
    if kind == "host":
        return str(arg)  # the service name is the host on the project network
    if kind == "url":
        return f"http://{arg}:{catalog.components[str(arg)].port}"
    if kind == "public_url":
        return _escape(public_url(plan, catalog, str(arg)))
    if kind == "admin_email":
        return _escape(plan.identity.admin_email)
    raise ValueError(f"unknown env value kind {kind!r} (known: secret, host, url, public_url, admin_email)")


def _cpus(value: float) -> str:
    return f"{value:g}"


# ---- the compose document --------------------------------------------------------------------


def _labels(plan: InstallPlan, component: str | None = None, run: bool = False) -> dict[str, str]:
    labels = {LABEL_INSTALL: plan.name, LABEL_MANAGED: "true"}
    if component is not None:
        labels[LABEL_COMPONENT] = component
    if run:
        labels[LABEL_RUN] = RUN_ID_VALUE
    return labels


def _databases(catalog: Catalog, components: list[str]) -> list[tuple[str, Any]]:
    return [(name, db) for name in components for db in catalog.components[name].databases]


def _healthcheck(comp: Component) -> dict[str, Any]:
    health = comp.health
    return {
        "test": [_escape(part) for part in health.test],
        "interval": health.interval,
        "timeout": health.timeout,
        "retries": health.retries,
        "start_period": health.start_period,
    }


def _service(plan: InstallPlan, catalog: Catalog, comp: Component, enabled: list[str]) -> dict[str, Any]:
    svc: dict[str, Any] = {"image": plan.image_for(comp.name, catalog)}
    svc["pull_policy"] = plan.images.pull.value
    if comp.command:
        svc["command"] = [_escape(part) for part in comp.command]
    svc["init"] = True
    svc["stop_grace_period"] = STOP_GRACE[comp.kind]
    env = {key: resolve_env(value, plan, catalog, comp.name) for key, value in comp.env.items()}
    if comp.name == POSTGRES:
        # The init script reads each role's password from the environment (never from the file).
        for secret in sorted({db.password_secret for _, db in _databases(catalog, enabled)}):
            env[env_name(secret)] = _secret_ref(secret)
    if env:
        svc["environment"] = env
    deps = list(comp.depends_on)
    if comp.name == FRONT_DOOR:
        deps += [n for n in enabled if catalog.components[n].route is not None and n not in deps]
    if deps:
        svc["depends_on"] = {dep: {"condition": "service_healthy"} for dep in deps}
    svc["healthcheck"] = _healthcheck(comp)
    port = plan.host_port(comp.name, catalog)
    if port is not None:
        svc["ports"] = [
            {
                "target": comp.port,
                "published": str(port),
                "host_ip": plan.compose.bind_address,
                "protocol": "tcp",
            }
        ]
    mounts: list[dict[str, Any]] = [
        {"type": "volume", "source": volume_key(comp.name, vol.name), "target": vol.path}
        for vol in comp.volumes
    ]
    if comp.name == POSTGRES and _databases(catalog, enabled):
        mounts.append(_bind("./initdb", "/docker-entrypoint-initdb.d"))
    if comp.name == FRONT_DOOR:
        mounts.append(_bind("./traefik/traefik.yml", "/etc/traefik/traefik.yml"))
        mounts.append(_bind("./traefik/dynamic.yml", "/etc/traefik/dynamic/fabrix.yml"))
    if mounts:
        svc["volumes"] = mounts
    svc["networks"] = [NETWORK_KEY]
    res = comp.resources[plan.size.value]
    svc["deploy"] = {"resources": {"limits": {"cpus": _cpus(res.cpu), "memory": f"{res.memory_mb}M"}}}
    svc["labels"] = _labels(plan, comp.name, run=True)
    return svc


def _bind(source: str, target: str) -> dict[str, Any]:
    # create_host_path false: a missing bundle file is an error, never a silently created folder.
    return {"type": "bind", "source": source, "target": target, "read_only": True,
            "bind": {"create_host_path": False}}


def _volume(plan: InstallPlan, component: str, volume: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"labels": _labels(plan, component)}
    folder = volume_host_dir(plan, component, volume)
    if folder is not None:
        # Still a named, labelled volume (teardown finds it by label), stored in the data dir.
        spec["driver"] = "local"
        spec["driver_opts"] = {"type": "none", "o": "bind", "device": str(folder)}
    return spec


def compose_document(plan: InstallPlan, catalog: Catalog) -> dict[str, Any]:
    enabled = plan.enabled_components(catalog)
    services = {
        name: _service(plan, catalog, catalog.components[name], enabled) for name in enabled
    }
    volumes = {
        volume_key(name, vol.name): _volume(plan, name, vol.name)
        for name in enabled
        for vol in catalog.components[name].volumes
    }
    doc: dict[str, Any] = {"name": project_name(plan.name), "services": services}
    doc["networks"] = {NETWORK_KEY: {"labels": _labels(plan)}}
    if volumes:
        doc["volumes"] = volumes
    return doc


# ---- the other files -------------------------------------------------------------------------


def _env_line(name: str, value: str) -> str:
    if _SAFE_ENV_VALUE.match(value):
        return f"{name}={value}\n"
    if "'" not in value and "\n" not in value:
        return f"{name}='{value}'\n"  # single quotes: Compose takes the value literally
    raise UsageError(
        f"secret {name} holds a quote or line break, which a Compose .env file cannot carry",
        "regenerate it: delete its line from the install's secrets.env and render again",
    )


def env_file(plan: InstallPlan, catalog: Catalog, secrets: dict[str, str]) -> str:
    names = sorted(env_name(s) for s in secrets_for(plan.enabled_components(catalog), catalog))
    missing = [n for n in names if n not in secrets]
    if missing:
        raise UsageError(
            f"the install's secret store lacks {', '.join(missing)}",
            "render through fabrix (it generates missing secrets), or add the names to secrets.env",
        )
    body = render_template("compose/env.j2", install=plan.name)
    body += "".join(_env_line(n, secrets[n]) for n in names)
    composed = compose_database_values(catalog, plan.enabled_components(catalog), secrets)
    if composed:
        body += "# Connection URLs composed from the passwords above (URL-encoded); secrets too.\n"
        body += "".join(_env_line(n, composed[n]) for n in sorted(composed))
    return body


def env_example(plan: InstallPlan, catalog: Catalog) -> str:
    names = sorted(env_name(s) for s in secrets_for(plan.enabled_components(catalog), catalog))
    names += compose_database_vars(catalog, plan.enabled_components(catalog))
    body = render_template("compose/env.j2", install=plan.name, example=True)
    return body + "".join(f"{n}=\n" for n in names)


def _sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_literal(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def initdb_context(catalog: Catalog, enabled: list[str]) -> dict[str, Any]:
    """Roles (with the env var of their password) and databases (with extensions), de-duplicated."""
    roles: dict[str, str] = {}
    databases = []
    for component, db in _databases(catalog, enabled):
        known = roles.setdefault(db.user, db.password_secret)
        if known != db.password_secret:
            raise ValueError(f"catalog: role {db.user} has two password secrets ({known}, {db.password_secret})")
        databases.append({
            "component": component,
            "name": db.name,
            "ident": _sql_ident(db.name),
            "literal": _sql_literal(db.name),
            "owner": _sql_ident(db.user),
            "owner_literal": _sql_literal(db.user),
            "extensions": [_sql_ident(ext) for ext in db.extensions],
        })
    return {
        "roles": [
            {
                "name": user,
                "ident": _sql_ident(user),
                "literal": _sql_literal(user),
                "var": "pw_" + re.sub(r"[^a-z0-9_]", "_", user.lower()),
                "env": env_name(secret),
            }
            for user, secret in roles.items()
        ],
        "databases": databases,
    }


def _login_text(plan: InstallPlan, catalog: Catalog, comp: Component) -> str:
    """One README line: user, where the password is (its .env name, never the value), and a note."""
    login = comp.first_login
    if login is None:
        return ""
    parts = []
    if login.user is not None:
        parts.append(f"user `{resolve_env(login.user, plan, catalog).replace('$$', '$')}`")
    if login.password_secret:
        parts.append(f"password in `.env` as `{env_name(login.password_secret)}`")
    text = ", ".join(parts)
    if login.note:
        text = f"{text}. {login.note}" if text else login.note
    return text


def _service_rows(plan: InstallPlan, catalog: Catalog) -> list[dict[str, Any]]:
    rows = []
    for name in plan.enabled_components(catalog):
        comp = catalog.components[name]
        port = plan.host_port(name, catalog)
        rows.append({
            "name": name,
            "title": comp.title,
            "kind": comp.kind,
            "image": plan.image_for(name, catalog),
            "host_url": host_url(plan, catalog, name),
            "host_port": port,
            "front_door": front_door_url(plan, catalog, name),
            "login": _login_text(plan, catalog, comp),
        })
    return rows


def render_compose(inp: RenderInput) -> Bundle:
    plan, catalog = inp.plan, inp.catalog
    enabled = plan.enabled_components(catalog)
    bundle = Bundle()
    doc = compose_document(plan, catalog)
    bundle.add(
        "compose.yaml",
        render_template("compose/compose.yaml.j2", doc=doc, install=plan.name, version=catalog.platform.version),
    )
    if inp.secrets:
        bundle.add(".env", env_file(plan, catalog, dict(inp.secrets)), private=True)
    else:
        # No secrets (a review export): name what .env must hold, with no values.
        bundle.add(".env.example", env_example(plan, catalog))
    initdb = initdb_context(catalog, enabled)
    if initdb["databases"]:
        bundle.add(INITDB_SCRIPT, render_template("compose/initdb.sh.j2", **initdb))
    if FRONT_DOOR in enabled:
        routes = [
            {"name": n, "host": f"{catalog.components[n].route.host}.localhost",  # type: ignore[union-attr]
             "url": f"http://{n}:{catalog.components[n].port}"}
            for n in enabled
            if catalog.components[n].route is not None
        ]
        bundle.add("traefik/traefik.yml", render_template("compose/traefik.yml.j2"))
        bundle.add("traefik/dynamic.yml", render_template("compose/traefik-dynamic.yml.j2", routes=routes))
    bundle.add(
        "README.md",
        render_template(
            "compose/README.md.j2",
            plan=plan,
            project=project_name(plan.name),
            network=network_name(plan),
            volumes=[volume_name(plan, n, v.name) for n in enabled for v in catalog.components[n].volumes],
            services=_service_rows(plan, catalog),
            has_secrets=bool(inp.secrets),
            has_initdb=bool(initdb["databases"]),
            data_dirs=[str(d) for d in volume_host_dirs(plan, catalog)],
            platform=catalog.platform,
        ),
    )
    return bundle
