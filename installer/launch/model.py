"""What launch, rollback and status hand back: plain data the CLI and the TUI both render."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from installer.errors import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK


class Outcome(StrEnum):
    ok = "ok"
    failed = "failed"
    cancelled = "cancelled"


@dataclass(frozen=True)
class ServiceStatus:
    component: str  # catalog component (the Compose service name)
    state: str  # Docker's container state: running, exited, created, restarting …
    health: str | None  # healthy, unhealthy, starting, or None without a health check
    failing_streak: int = 0
    ports: list[str] = field(default_factory=list)  # "127.0.0.1:5432->5432/tcp"
    last_health_output: str = ""  # redacted
    container: str = ""
    exit_code: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunInfo:
    """An unfinished launch found in the journal (the installer was killed mid-launch)."""

    name: str
    run_id: str
    started_at: str
    last_step: str
    last_phase: str
    project_existed: bool  # did the Compose project exist before that run?

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"run {self.run_id} of install {self.name!r} (started {self.started_at}) stopped during "
            f"step {self.last_step!r} ({self.last_phase})"
        )


@dataclass(frozen=True)
class Diagnostics:
    """What we learnt about a failure before rolling back. Secrets are redacted."""

    reason: str  # Compose's final error message, or ours
    service: str | None = None  # the failing service, when one is to blame
    state: str | None = None
    health_output: str = ""  # last health-check output of the failing service
    log_lines: list[str] = field(default_factory=list)  # its last log lines

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Summary:
    name: str
    project: str
    urls: dict[str, str]  # component → URL a browser (or client) uses
    admin_user: str
    admin_email: str
    secrets_file: str  # where the generated passwords live (mode 0600)
    bundle_dir: str  # the rendered Compose files this install runs from
    services: list[str] = field(default_factory=list)
    # component → http://<route>.localhost[:port] through the local front door (Traefik), if any
    front_door_urls: dict[str, str] = field(default_factory=dict)
    # Azure: where the install lives, the Key Vault holding its secrets, how to sign in the first time.
    resource_group: str = ""
    key_vault: str = ""
    first_sign_in: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RollbackResult:
    name: str
    run_id: str | None  # None when there was nothing to roll back
    removed: str = ""  # what was removed, in words
    volumes_removed: bool = False
    leftovers: str = ""  # what is still there (empty when clean)
    message: str = ""

    @property
    def ok(self) -> bool:
        return not self.leftovers

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"ok": self.ok}


@dataclass(frozen=True)
class LaunchResult:
    outcome: Outcome
    name: str
    run_id: str
    message: str  # one clear paragraph: what happened (and why, on failure)
    summary: Summary | None = None
    diagnostics: Diagnostics | None = None
    rollback: RollbackResult | None = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ok

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.failed

    @property
    def cancelled(self) -> bool:
        return self.outcome is Outcome.cancelled

    @property
    def exit_code(self) -> int:
        return {Outcome.ok: EXIT_OK, Outcome.failed: EXIT_FAILED, Outcome.cancelled: EXIT_CANCELLED}[self.outcome]

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "name": self.name,
            "run_id": self.run_id,
            "message": self.message,
            "elapsed": round(self.elapsed, 3),
            "summary": self.summary.to_json() if self.summary else None,
            "diagnostics": self.diagnostics.to_json() if self.diagnostics else None,
            "rollback": self.rollback.to_json() if self.rollback else None,
            "exit_code": self.exit_code,
        }
