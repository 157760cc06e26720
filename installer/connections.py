"""Connection URLs the Miso controller and the dataplane read, composed the way the vendor does.

The vendor's templates hand the apps connection URLs, never host/user/password pieces
(B: templates/applications/{miso-controller,dataplane}/env.template): ``DATABASE_URL``,
``DATABASELOG_URL``, ``VECTOR_DATABASE_URL``, ``LOGS_DATABASE_URL``, ``RECORDS_DATABASE_URL`` as
``postgresql://<user>:<password>@<host>:<port>/<database>`` (B: lib/parameters/database-secret-values.js)
and ``REDIS_URL`` (``redis://<host>:<port>`` locally, B: lib/schema/infra.parameter.yaml ``redis-url``).

A composed URL carries a password, so it is a secret itself: Compose keeps it in the bundle's
``.env`` under the vendor's key name (``databases-<app>-<index>-urlKeyVault`` →
``DATABASES_<APP>_<INDEX>_URL``), Azure in Key Vault (the foundation builds it from the secure
parameters). Credentials are URL-encoded; the generators make URL-safe passwords, but a password
a user puts in the secret store may hold any character.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit

from installer.catalog import Catalog, Component
from installer.secrets import env_name

# The vendor's template default for LOCATION where no Azure region applies (env.template).
DEFAULT_LOCATION = "westeurope"
POSTGRES_PORT = 5432
REDIS_PORT = 6379
AZURE_REDIS_PORT = 10000  # Azure Managed Redis: TLS on 10000


def database_url_key(comp: Component, database: str) -> str:
    """The vendor's secret key for a database URL: ``databases-<app>-<index>-url`` (index in
    ``requires.databases`` order, which is the catalog's ``databases`` order)."""
    names = [db.name for db in comp.databases]
    return f"databases-{comp.name}-{names.index(database)}-url"


def database_url_var(comp: Component, database: str) -> str:
    """Its env-file name: ``DATABASES_MISO_CONTROLLER_0_URL``."""
    return env_name(database_url_key(comp, database))


def postgres_url(user: str, password: str, host: str, port: int, database: str, sslmode: str | None = None) -> str:
    url = f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{quote(database, safe='')}"
    return f"{url}?sslmode={sslmode}" if sslmode else url


def redis_url(host: str, port: int, key: str | None = None, tls: bool = False) -> str:
    auth = f":{quote(key, safe='')}@" if key else ""
    return f"{'rediss' if tls else 'redis'}://{auth}{host}:{port}"


def database_urls(comp: Component) -> list[tuple[str, str]]:
    """(env key, database name) for every ``{database_url: DB}`` setting of ``comp``."""
    out = []
    for key, raw in comp.env.items():
        if isinstance(raw, dict) and "database_url" in raw:
            out.append((key, str(raw["database_url"])))
    return out


def compose_database_values(catalog: Catalog, enabled: list[str], secrets: Mapping[str, str],
                            host: str = "postgres") -> dict[str, str]:
    """Env-file name → composed URL for every database URL an enabled component reads (Compose)."""
    values: dict[str, str] = {}
    for name in enabled:
        comp = catalog.components[name]
        for _key, database in database_urls(comp):
            db = comp.database(database)
            password = secrets.get(env_name(db.password_secret))
            if password is None:
                continue  # env_file reports the missing secret by name
            values[database_url_var(comp, database)] = postgres_url(db.user, password, host, POSTGRES_PORT, db.name)
    return values


def compose_database_vars(catalog: Catalog, enabled: list[str]) -> list[str]:
    return sorted({database_url_var(catalog.components[n], db) for n in enabled
                   for _k, db in database_urls(catalog.components[n])})


def origin(url: str) -> str:
    """scheme://host[:port] of a URL (the vendor's url://host-public / host-private)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allowed_origins(urls: list[str]) -> str:
    """The vendor's ALLOWED_ORIGINS: local development origins first, then each origin once."""
    seen: list[str] = ["http://localhost:*"]
    for url in urls:
        o = origin(url)
        if o not in seen:
            seen.append(o)
    return ",".join(seen)
