"""Launch an install with Docker Compose: checks → render → validate → login → pull → up → probe
→ summary, each step journaled before and after it acts; any failure, timeout or cancel collects
diagnostics, then rolls back what this run created.

The step machine itself (journal, lock, cancel, keep, diagnostics-then-rollback, resume, events)
is ``installer.launch.runner``; this module is Compose's steps, diagnostics, rollback and summary.
Runs in any thread and never prints: everything the person sees goes through ``reporter``.
"""

from __future__ import annotations

import os
import re
import threading
import urllib.error
from concurrent.futures import Future, ThreadPoolExecutor
import urllib.request
from collections.abc import Iterable
from typing import Any


from installer import yamlread
from installer.errors import FabrixError, UsageError
from installer.labels import COMPOSE_PROJECT_LABEL, LABEL_COMPONENT, LABEL_RUN, project_name
from installer.launch import recovery, registry_auth
from installer.launch.compose_progress import Kind, container_service, parse_line
from installer.launch.dockercli import (
    Stream,
    compose_command,
    last_line,
    plain_docker_cmd,
    project_objects,
    pump,
    refuse_foreign,
    run,
)
from installer.launch.journal import Phase, first_data
from installer.launch.model import Diagnostics, LaunchResult, RollbackResult, ServiceStatus, Summary
from installer.launch.runner import Run, Step, Stop, launch_with
from installer.launch.status import project_status
from installer.plan import InstallPlan
from installer.progress import Reporter, State
from installer.render.compose import volume_host_dirs
from installer.secrets import SecretStore, redact

CONTROLLER = "miso-controller"
DATAPLANE = "dataplane"
CONTROLLER_CLIENT_SECRET = "miso_client_secret"
DATAPLANE_CLIENT_ID = "dataplane_client_id"  # issued by the controller at registration
DATAPLANE_CLIENT_SECRET = "dataplane_client_secret"
REGISTRY_PASSWORD_SECRET = "registry_password"
REGISTRY_PASSWORD_ENV = "FABRIX_REGISTRY_PASSWORD"
RUN_ID_ENV = "FABRIX_RUN_ID"  # the compose file labels objects with ${FABRIX_RUN_ID:-manual}
# How often the launch asks Docker for the failing streak and health output while Compose waits
# (Compose's own lines already say starting/healthy). Each ask costs two docker CLI processes;
# every second used a tenth of a core for the whole launch, which a loaded machine felt.
HEALTH_POLL_S = 2.0
PROBE_BUDGET = 20.0  # seconds the host-side smoke probes may retry (a port forward can lag)
LOG_TAIL = 30

# Compose action → our per-service state (both progress schemas use the same action words).
_ACTION_STATE: dict[str, State] = {
    "Creating": State.creating,
    "Created": State.creating,
    "Recreate": State.creating,
    "Recreated": State.creating,
    "Starting": State.starting,
    "Started": State.running,
    "Running": State.running,
    "Waiting": State.health_starting,
    "Healthy": State.healthy,
    "Error": State.failed,
    "Exited": State.failed,
}
# Forward order of a service's states (failures rank above all: they always show).
_RANK = {State.pending: 0, State.creating: 1, State.starting: 2, State.running: 3,
         State.health_starting: 4, State.healthy: 5, State.unhealthy: 6, State.failed: 7}
_CONTAINER_IN_ERROR = re.compile(r"container ([A-Za-z0-9_.-]+) (?:is unhealthy|exited|has exited)")


def launch(
    plan: InstallPlan,
    reporter: Reporter,
    cancel: threading.Event | None = None,
    resume: bool = False,
    timeout: int = 600,
    keep: threading.Event | None = None,
) -> LaunchResult:
    """Bring ``plan`` up with Docker Compose. See the module docstring.

    Returns a ``LaunchResult`` (ok, failed-and-rolled-back, or cancelled-and-rolled-back).
    Raises ``UsageError`` when the install is busy or has an unfinished run and ``resume`` is
    False, and ``ToolMissing`` when Docker or Compose v2 is missing (nothing changed then).
    ``keep`` set when the run stops (failure or cancel) skips the rollback: everything stays for
    debugging and the run stays unfinished, so `fabrix rollback` or `up --resume` can end it later.
    """
    if plan.is_azure():
        raise UsageError(
            f"install {plan.name!r} targets {plan.model.value}/{plan.target.value}; `fabrix up` launches Docker Compose only",
            "set model: container and target: compose, or use `fabrix render` for Azure blueprints",
        )
    return launch_with(plan, ComposeBackend(timeout), reporter, cancel=cancel, resume=resume, keep=keep)


class ComposeBackend:
    """Compose's steps, diagnostics, rollback and summary; the runner (``runner.Run``) does the rest."""

    kind = "compose"

    def __init__(self, timeout: int = 600) -> None:
        self.timeout = max(1, int(timeout))
        self.run: Run | None = None
        self.services: list[str] = []
        self.config: dict[str, Any] = {}
        self.docker: list[str] = []
        self.compose: list[str] = []
        self.env: dict[str, str] = {}
        self.compose_error = ""
        self.project_existed = True  # until the preflight step knows better: keep data
        self.raw_tail: list[str] = []
        self.service_state: dict[str, State] = {}
        self.last_status: list[ServiceStatus] = []
        self._streaks: dict[str, tuple[str | None, int]] = {}
        self._last_message: dict[str, str] = {}
        self._present: set[str] | None = None

    # ---- the runner's side ----------------------------------------------------------------

    def attach(self, run: Run) -> None:
        self.run = run
        self.plan = run.plan
        self.folder = run.folder
        self.cancel = run.cancel
        self.clock = run.clock
        self.journal = run.journal
        self.project = project_name(run.plan.name)
        self.emit = run.emit
        self.journal_step = run.journal_step
        self.check_cancel = run.check_cancel

    @property
    def run_id(self) -> str:
        assert self.run is not None
        return self.run.run_id

    @property
    def secret_values(self) -> list[str]:
        assert self.run is not None
        return self.run.secret_values

    @secret_values.setter
    def secret_values(self, values: list[str]) -> None:
        assert self.run is not None
        self.run.secret_values = values

    def run_data(self) -> dict[str, Any]:
        return {"project": self.project}

    def steps(self) -> list[Step]:
        resumed = bool(self.run and self.run.resumed)
        steps = [
            Step("render", self.step_checks_and_render),
            Step("preflight", lambda: self.step_preflight(resumed)),
            Step("login", self.step_login),
            Step("pull", self.step_pull),
        ]
        if {CONTROLLER, DATAPLANE} <= set(self.plan.enabled_components()):
            # The vendor's order (up-miso, then up-dataplane): the controller healthy, the dataplane
            # registered with it, its issued credentials in the secret store, then the dataplane.
            steps += [
                Step("up", lambda: self.step_up(exclude=(DATAPLANE,))),
                Step("register", self.step_register),
                Step("up-dataplane", lambda: self.step_up(only=(DATAPLANE,), step="up-dataplane")),
            ]
        else:
            steps.append(Step("up", self.step_up))
        steps.append(Step("probe", self.step_probe))
        return steps

    def summary_message(self) -> tuple[Summary, str]:
        summary = self.summary()
        message = (f"{self.plan.name} is up: {len(summary.services)} service(s) healthy in "
                   f"{self.clock.elapsed():.0f}s. Passwords are in {summary.secrets_file}.")
        return summary, message

    def rollback(self, reporter: Reporter) -> RollbackResult:
        return recovery.rollback_run(self.plan.name, self.journal, self.run_id, reporter)

    def failure_message(self, stop: Stop, diagnostics: Diagnostics, rollback: RollbackResult | None) -> str:
        return _paragraph(self.plan.name, stop, diagnostics, rollback)

    def step_checks_and_render(self) -> None:
        """The checks run on a thread while we render; a failed check explains more than a
        render error, so it wins."""
        self.start_checks()
        try:
            self.step_render()
        except (FabrixError, Stop):
            if not self.cancel.is_set():
                self.finish_checks()
            raise
        self.finish_checks()

    # ---- steps --------------------------------------------------------------------------

    def start_checks(self) -> None:
        """Run the checks on a thread while we render: both only read the machine (render writes
        only into the install's own state folder), and it takes their time off every launch."""
        from installer.checks import CheckContext, checks_for, run_checks

        self.check_cancel()
        self.journal_step("checks", Phase.begin)
        self.emit("checks", State.running, "checking prerequisites")
        try:
            checks = checks_for(self.plan)
        except ImportError as exc:  # a check module missing from this build: say so, go on
            self.emit("checks", State.warning, f"local checks unavailable: {exc}")
            checks = []
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["results"] = list(run_checks(checks, CheckContext(plan=self.plan)))
            except BaseException as exc:  # handed to finish_checks on the launch thread
                box["error"] = exc

        self._checks = (threading.Thread(target=work, daemon=True, name="launch-checks"), box)
        self._checks[0].start()

    def finish_checks(self) -> None:
        thread, box = self._checks
        thread.join()
        # Ctrl-C on a terminal also reaches the checks' docker calls: a check that died of it is
        # not a failed prerequisite, the person cancelled.
        self.check_cancel()
        if "error" in box:
            raise box["error"]
        assert self.run is not None
        self.run.report_checks(box["results"])

    def step_render(self) -> None:
        from installer.answers import save_answers
        from installer.pipeline import render_and_validate

        self.check_cancel()
        self.journal_step("render", Phase.begin, bundle=str(self.folder.bundle))
        self.emit("render", State.running, "rendering the Compose blueprint")
        bundle, inp = render_and_validate(self.plan, ["compose"])
        # Before anything is written: refuse a data_dir another install already uses.
        from installer.launch import datadir

        datadir.claim(self.plan)
        if not (self.run and self.run.resumed):
            recovery.keep_previous_bundle(self.folder, self.journal, self.run_id)
        bundle.write(self.folder.bundle)
        # With compose.data_dir, volumes are bound to host folders that Docker will not create.
        for folder in volume_host_dirs(self.plan, inp.catalog):
            folder.mkdir(parents=True, exist_ok=True)
        save_answers(self.plan, self.folder.answers)
        self.secret_values = list(SecretStore(self.folder.secrets).values().values())
        self.journal_step("render", Phase.end, files=sorted(bundle), sha256=dict(bundle.digests()))
        self.emit("render", State.done, f"wrote {len(bundle)} file(s) to {self.folder.bundle}")

        self.check_cancel()
        self.journal_step("validate", Phase.begin)
        files = [self.folder.bundle / "compose.yaml"]
        env_files = [p for p in [self.folder.bundle / ".env"] if p.exists()]
        self.docker = plain_docker_cmd()
        self.compose = compose_command(self.project, files, env_files, self.folder.bundle)
        self.env = _compose_env(self.run_id, SecretStore(self.folder.secrets).values().keys())
        # render_and_validate already ran `docker compose config` (and the schema) on these
        # bytes; the services, images and ports we need are literal in our own file, so read it
        # rather than pay for a second `compose config` on every launch.
        self.config = yamlread.safe_load(bundle.files["compose.yaml"]) or {}
        self.services = sorted((self.config.get("services") or {}).keys())
        self.journal_step("validate", Phase.end, services=self.services)
        self.emit("validate", State.done, f"{len(self.services)} service(s): {', '.join(self.services)}")

    def step_preflight(self, resumed: bool) -> None:
        """Record whether the project existed before this run: rollback deletes volumes only if not."""
        self.check_cancel()
        records = self.journal.run_records(self.run_id)
        with ThreadPoolExecutor(max_workers=2) as pool:
            # Which images are present (for the pull step) is independent: ask at the same time.
            images = pool.submit(_present_images, self.docker, set(self._images().values()))
            before = pool.submit(project_objects, self.docker, self.project)
            self._present = images.result()
            objects = before.result()
        # Someone else's project under our name: `up --remove-orphans` would remove its services
        # and a later rollback or `down --volumes` its data. Touch nothing; say so.
        refuse_foreign(objects, self.project, "adopt, replace or remove")
        if resumed and first_data(records, "preflight", "project_existed") is not None:
            existed = bool(first_data(records, "preflight", "project_existed"))
        else:
            existed = bool(objects.containers or objects.volumes)
        self.journal_step("preflight", Phase.end, project_existed=existed)
        self.project_existed = existed
        # A Compose still running for a killed earlier attempt must not race this one.
        recovery.stop_orphaned_compose(self.journal.run_records(self.run_id))
        if existed:
            # Keep the run label of the running stack so an unchanged re-run converges without
            # recreating healthy containers (the label is part of each container's config).
            res = run(self.docker + ["ps", "-a", "--filter", f"label={COMPOSE_PROJECT_LABEL}={self.project}",
                                     "--format", f'{{{{.Label "{LABEL_RUN}"}}}}'], timeout=30)
            labels = [x for x in res.stdout.split() if x and x != "manual"]
            if labels:
                self.env[RUN_ID_ENV] = sorted(labels)[0]
            if not resumed or first_data(records, "preflight", "previous_running") is None:
                # What a failed update restores (recovery.restore_previous): the version running now.
                self.journal_step("preflight", Phase.end, previous_running=bool(objects.containers),
                                  previous_label=self.env.get(RUN_ID_ENV, ""))
        if existed:
            self.emit("preflight", State.done, "an earlier install exists: its data volumes are kept whatever happens")

    def step_login(self) -> None:
        registry = self.plan.images.registry
        images = self._images()
        # Log in only to pull: a re-run with every image present works offline, without a password.
        if not registry or self.plan.images.pull.value == "never" or not any(
            images[svc].startswith(registry + "/") for svc in self._to_pull()
        ):
            return
        self.check_cancel()
        user = self.plan.images.username
        password = SecretStore(self.folder.secrets).get(REGISTRY_PASSWORD_SECRET) or os.environ.get(REGISTRY_PASSWORD_ENV)
        if not user or not password:
            raise Stop(
                f"images come from the private registry {registry}, but "
                + ("images.username is not set" if not user else f"no password was given ({REGISTRY_PASSWORD_ENV} or the secret store's REGISTRY_PASSWORD)")
            )
        self.secret_values.append(password)
        # A private DOCKER_CONFIG (registry_auth): the password never reaches the person's Docker
        # configuration, and rollback/down delete it with the folder it was journaled with.
        config = registry_auth.config_dir(self.folder.root)
        self.journal_step("login", Phase.begin, registry=registry, username=user, docker_config=str(config))
        registry_auth.create(self.folder.root)
        self.env = registry_auth.env_with(self.env, config)
        self.emit("login", State.running, f"docker login {registry} as {user}")
        res = run(self.docker + ["login", "--username", user, "--password-stdin", registry],
                  input_text=password + "\n", env=self.env, timeout=min(120, self.timeout))
        if res.rc != 0:
            self.journal_step("login", Phase.failed)
            raise Stop(f"docker login to {registry} failed: {redact(last_line(res.stderr), self.secret_values)}")
        self.journal_step("login", Phase.end)
        self.emit("login", State.done, f"logged in to {registry}")

    def _images(self) -> dict[str, str]:
        return {name: str(svc.get("image") or "") for name, svc in (self.config.get("services") or {}).items()}

    def _to_pull(self) -> list[str]:
        """Services whose image must be pulled: all with ``pull: always``, else the missing ones."""
        images = self._images()
        if self.plan.images.pull.value == "always":
            return sorted(images)
        if self._present is None:
            self._present = _present_images(self.docker, set(images.values()))
        return sorted(s for s, img in images.items() if img not in self._present)

    def step_pull(self) -> None:
        self.check_cancel()
        images = self._images()
        policy = self.plan.images.pull.value
        wanted = self._to_pull()
        for svc in sorted(images):
            if svc not in wanted:
                self.emit("pull", State.skipped, f"{images[svc]} is present", service=svc)
        if not wanted:
            self.journal_step("pull", Phase.end, pulled=[])
            return
        if policy == "never":
            missing = ", ".join(f"{images[s]} ({s})" for s in wanted)
            raise Stop(f"images not present and images.pull is never: {missing}. "
                        "Fix: `docker pull` them (or `docker load`), or set images.pull: missing")
        self.journal_step("pull", Phase.begin, images=[images[s] for s in wanted])
        for svc in wanted:
            self.emit("pull", State.pulling, f"pulling {images[svc]}", service=svc)
        layers: dict[str, dict[str, tuple[int, int]]] = {}
        errors: list[str] = []

        def on_line(_name: str, line: str) -> None:
            p = parse_line(line)
            if p is None:
                return
            if p.kind is Kind.error:
                errors.append(p.detail or "pull failed")
            elif p.kind is Kind.image and p.parent and p.total:
                layers.setdefault(p.parent, {})[p.subject] = (p.current or 0, p.total)
                cur = sum(c for c, _ in layers[p.parent].values())
                tot = sum(t for _, t in layers[p.parent].values())
                self.emit("pull", State.pulling, "downloading", service=p.parent, current=cur, total=tot)
            elif p.kind is Kind.image and p.subject in images:
                if p.action == "Error" or (p.action and "error" in p.detail.lower()):
                    errors.append(f"{p.subject}: {p.detail}")
                    self.emit("pull", State.failed, p.detail, service=p.subject)
                elif p.action in ("Pulled", "Done"):
                    self.emit("pull", State.done, f"pulled {images[p.subject]}", service=p.subject)
            elif p.kind is Kind.raw:
                self.raw_tail = (self.raw_tail + [p.detail])[-10:]

        stream = Stream(self.compose + ["--progress", "json", "pull", *wanted], env=self.env, cwd=self.folder.bundle)
        # Journaled so a rollback after `kill -9` of fabrix can end the pull's process group.
        self.journal_step("pull-process", Phase.begin, pid=stream.proc.pid)
        # --timeout bounds the pull too: a registry that never answers must not hang the launch.
        deadline = self.clock.elapsed() + self.timeout
        stop = threading.Event()
        timed_out = threading.Event()

        def tick() -> None:
            if self.cancel.is_set():
                stop.set()
            elif self.clock.elapsed() > deadline:
                timed_out.set()
                stop.set()

        try:
            rc, cancelled = pump(stream, on_line, stop, tick=tick, tick_every=0.5)
        finally:
            # The login was only for this pull: forget it now (rollback and down remove it too).
            if registry_auth.remove(self.folder.root):
                self.env.pop("DOCKER_CONFIG", None)
        if cancelled and timed_out.is_set():
            self.journal_step("pull", Phase.failed, timed_out=True)
            raise Stop(f"pulling images did not finish within {self.timeout}s (--timeout): "
                       f"is the registry reachable? {', '.join(images[s] for s in wanted)}")
        if cancelled:
            self.journal_step("pull", Phase.failed, cancelled=True)
            raise Stop("cancelled while pulling images", cancelled=True)
        if rc != 0:
            self.journal_step("pull", Phase.failed)
            reason = errors[-1] if errors else (self.raw_tail[-1] if self.raw_tail else f"exit code {rc}")
            raise Stop(f"pulling images failed: {redact(reason, self.secret_values)}")
        self.journal_step("pull", Phase.end, pulled=[images[s] for s in wanted])
        for svc in wanted:
            self.emit("pull", State.done, f"pulled {images[svc]}", service=svc)

    def step_up(self, only: tuple[str, ...] = (), exclude: tuple[str, ...] = (), step: str = "up") -> None:
        """``docker compose up --wait`` for every service, or ``only`` those, or all but ``exclude``."""
        self.check_cancel()
        selected = [s for s in self.services if (not only or s in only) and s not in exclude]
        self.journal_step(step, Phase.begin, project=self.project, project_existed=self.project_existed,
                          services=selected)
        for svc in selected:
            self.set_state(svc, State.pending, "waiting to start")
        cmd = self.compose + ["--progress", "json", "up", "--detach", "--wait",
                              "--wait-timeout", str(self.timeout), "--remove-orphans", "--pull", "never"]
        if only or exclude:
            cmd += selected
        stream = Stream(cmd, env=self.env, cwd=self.folder.bundle)
        self.journal_step("up-process", Phase.begin, pid=stream.proc.pid)
        deadline = self.clock.elapsed() + self.timeout + 60
        watchdog = {"fired": False}
        # The health poll (two docker CLI calls) runs on its own thread, so reading Compose's
        # lines, and noticing that Compose is done, never waits behind it; its answer is applied
        # here, on this thread, at the next tick.
        poller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fabrix-health-poll")
        polling: list[Future[list[ServiceStatus]]] = []

        def tick() -> None:
            if polling and polling[0].done():
                self.apply_health(polling.pop().result())
            if not polling:
                polling.append(poller.submit(project_status, self.docker, self.project, self.secret_values))
            if self.clock.elapsed() > deadline and not watchdog["fired"]:
                watchdog["fired"] = True  # Compose ignored its own --wait-timeout: stop it
                self.cancel.set()

        try:
            rc, cancelled = pump(stream, self.on_up_line, self.cancel, tick=tick, tick_every=HEALTH_POLL_S)
        finally:
            poller.shutdown(wait=False, cancel_futures=True)  # a poll under way is not waited for
        with ThreadPoolExecutor(max_workers=2) as pool:  # independent reads: at once
            status = pool.submit(project_status, self.docker, self.project, self.secret_values)
            volumes = project_objects(self.docker, self.project).volumes
            after = status.result()
        if cancelled:
            self.journal_step(step, Phase.failed, cancelled=True, volumes=volumes)
            if watchdog["fired"]:
                self.cancel.clear()
                raise Stop(f"Compose did not finish within {self.timeout + 60}s")
            raise Stop("cancelled while the services were starting", cancelled=True)
        if rc != 0:
            self.journal_step(step, Phase.failed, volumes=volumes)
            reason = self.compose_error or (self.raw_tail[-1] if self.raw_tail else f"docker compose up exited with code {rc}")
            raise Stop(reason, service=self._service_in(reason))
        # Trust but verify: Compose 2.40 can exit 0 when --wait-timeout runs out while a health
        # check is still "starting" (seen with a failing check inside its start_period).
        self.last_status = after
        ready = {s.component for s in self.last_status
                 if s.state == "running" and s.health in (None, "healthy")
                 or s.state == "exited" and s.exit_code == 0}
        not_ready = [s for s in self.last_status if s.component in selected and s.component not in ready]
        missing = [svc for svc in selected if svc not in {s.component for s in self.last_status}]
        if not_ready or missing:
            self.journal_step(step, Phase.failed, volumes=volumes)
            first = not_ready[0].component if not_ready else missing[0]
            names = ", ".join([s.component for s in not_ready] + missing)
            raise Stop(f"not healthy after {self.timeout}s: {names}", service=first)
        self.journal_step(step, Phase.end, volumes=volumes)
        for svc in selected:
            if self.service_state.get(svc) is not State.healthy:
                self.set_state(svc, State.healthy, "healthy")

    def step_register(self) -> None:
        """Register the dataplane with the healthy controller (installer.launch.registration) and
        keep the credentials it issues in the secret store and the bundle's .env."""
        from installer.catalog import load_catalog
        from installer.fsutil import write_atomic
        from installer.launch.registration import (
            Credentials,
            RegistrationFailed,
            register_dataplane,
            registration_body,
        )
        from installer.render.compose import env_file, public_url

        self.check_cancel()
        catalog = load_catalog()
        controller = catalog.components[CONTROLLER]
        self.journal_step("register", Phase.begin, controller=CONTROLLER, app=DATAPLANE, environment="dev")
        self.emit("register", State.running, "registering the dataplane with the Miso controller", service=DATAPLANE)
        published = _published((self.config.get("services") or {}).get(CONTROLLER) or {}, controller.port)
        if published is None:
            self.journal_step("register", Phase.failed)
            raise Stop("the Miso controller publishes no host port, and fabrix registers the dataplane through it",
                       service=CONTROLLER)
        host, port = published
        store = SecretStore(self.folder.secrets)
        client_id = controller.env.get("MISO_CLIENTID")
        client_secret = store.get(CONTROLLER_CLIENT_SECRET)
        if not isinstance(client_id, str) or not client_secret:
            self.journal_step("register", Phase.failed)
            raise Stop(f"the secret store lacks the controller's client secret ({CONTROLLER_CLIENT_SECRET})", service=CONTROLLER)
        registry = self.plan.images.registry or catalog.platform.private_registry
        body = registration_body(
            image=self.plan.image_for(DATAPLANE, catalog), port=catalog.components[DATAPLANE].port,
            url=public_url(self.plan, catalog, DATAPLANE),
            registry_mode="acr" if registry.endswith(".azurecr.io") else "external")
        try:
            reg = register_dataplane(f"http://{host}:{port}", Credentials(client_id, client_secret), body, self.cancel)
        except RegistrationFailed as exc:
            self.journal_step("register", Phase.failed)
            if self.cancel.is_set():
                raise Stop("cancelled while registering the dataplane", cancelled=True) from None
            raise Stop(f"the Miso controller did not register the dataplane: {exc}", service=CONTROLLER) from None
        except OSError as exc:
            self.journal_step("register", Phase.failed)
            raise Stop(f"the Miso controller did not answer while registering the dataplane: {exc}",
                       service=CONTROLLER) from None
        store.set(DATAPLANE_CLIENT_ID, reg.credentials.client_id)
        store.set(DATAPLANE_CLIENT_SECRET, reg.credentials.client_secret)
        store.save()
        self.secret_values = list(store.values().values())
        # The dataplane reads them from .env (MISO_CLIENTID/MISO_CLIENTSECRET); write it again.
        write_atomic(self.folder.bundle / ".env", env_file(self.plan, catalog, dict(store.values())).encode(), mode=0o600)
        self.journal_step("register", Phase.end, action=reg.action)
        self.emit("register", State.done, f"dataplane {reg.action} with the controller (environment dev); "
                  f"its client credentials are in {self.folder.secrets}", service=DATAPLANE)

    def on_up_line(self, _stream: str, line: str) -> None:
        p = parse_line(line)
        if p is None:
            return
        if p.kind is Kind.error:
            self.compose_error = p.detail or self.compose_error
        elif p.kind is Kind.container:
            svc = container_service(p.subject, self.project, self.services)
            state = _ACTION_STATE.get(p.action)
            if svc is None or state is None:
                return
            if state is State.health_starting and self.service_state.get(svc) is State.healthy:
                return  # Compose re-waits on a dependency that is already healthy
            message = {State.health_starting: "health: starting", State.failed: p.detail or p.action.lower()}.get(
                state, p.action.lower())
            self.set_state(svc, state, message)
        elif p.kind in (Kind.network, Kind.volume) and p.action in ("Created", "Removed"):
            self.emit("up", State.log, f"{p.kind.value} {p.subject} {p.action.lower()}")
        elif p.kind is Kind.warning:
            self.emit("up", State.warning, p.detail)
        elif p.kind is Kind.raw:
            self.raw_tail = (self.raw_tail + [p.detail])[-10:]

    def set_state(self, svc: str, state: State, message: str, **data: Any) -> None:
        current = self.service_state.get(svc)
        if current is not None and _RANK.get(state, 99) < _RANK.get(current, 99) and state is not State.pending:
            return  # the poller saw a later state than Compose's line: never step backwards
        if current is state and self._last_message.get(svc) == message:
            return
        self.service_state[svc] = state
        self._last_message[svc] = message
        self.emit("up", state, message, service=svc, **({"data": data} if data else {}))

    def apply_health(self, statuses: list[ServiceStatus]) -> None:
        """Show what a health poll saw: "health: starting" with the failing streak, unhealthy output."""
        self.last_status = statuses
        for st in self.last_status:
            svc = st.component if st.component in self.services else None
            if svc is None or self.service_state.get(svc) in (State.healthy, State.failed):
                continue
            key = (st.health, st.failing_streak)
            if self._streaks.get(svc) == key:
                continue
            self._streaks[svc] = key
            if st.health == "starting":
                msg = "health: starting" + (f" (failing streak {st.failing_streak})" if st.failing_streak else "")
                self.set_state(svc, State.health_starting, msg, failing_streak=st.failing_streak)
            elif st.health == "unhealthy":
                self.set_state(svc, State.unhealthy, f"unhealthy: {st.last_health_output[-200:]}")

    def _service_in(self, text: str) -> str | None:
        m = _CONTAINER_IN_ERROR.search(text or "")
        return container_service(m.group(1), self.project, self.services) if m else None

    def step_probe(self) -> None:
        from installer.catalog import load_catalog

        self.check_cancel()
        catalog = load_catalog()
        probes = []
        for svc, spec in (self.config.get("services") or {}).items():
            comp_name = (spec.get("labels") or {}).get(LABEL_COMPONENT, svc)
            comp = catalog.components.get(comp_name)
            if comp is None or comp.http_health is None:
                continue
            published = _published(spec, comp.http_health.port)
            if published is None:
                continue  # the health endpoint is not exposed on the host (e.g. Keycloak's 9000)
            host, port = published
            probes.append((svc, f"http://{host}:{port}{comp.http_health.path}"))
        if not probes:
            return
        self.journal_step("probe", Phase.begin, urls=[u for _, u in probes])
        failures = []
        for svc, url in probes:
            ok, detail = _probe(url, PROBE_BUDGET, self.cancel)
            if self.cancel.is_set():
                raise Stop("cancelled during the smoke probes", cancelled=True)
            if ok:
                self.emit("probe", State.done, f"{url} answered {detail}", service=svc)
            else:
                self.emit("probe", State.failed, f"{url}: {detail}", service=svc)
                failures.append((svc, url, detail))
        if failures:
            self.journal_step("probe", Phase.failed)
            svc, url, detail = failures[0]
            raise Stop(f"{svc} is healthy inside Docker but {url} does not answer from this machine ({detail})",
                        service=svc)
        self.journal_step("probe", Phase.end)

    def summary(self) -> Summary:
        from installer.catalog import load_catalog
        from installer.render.compose import service_address

        catalog = load_catalog()
        urls: dict[str, str] = {}
        for svc, spec in sorted((self.config.get("services") or {}).items()):
            comp = catalog.components.get((spec.get("labels") or {}).get(LABEL_COMPONENT, svc))
            if comp is None:
                continue
            published = _published(spec, comp.port)
            if published is None:
                continue
            urls[svc] = service_address(comp, *published)
        front_door: dict[str, str] = {}
        try:  # the bundle README's own rule, so the summary and the README agree
            from installer.render.compose import front_door_url

            for svc in self.services:
                if svc in catalog.components and (url := front_door_url(self.plan, catalog, svc)):
                    front_door[svc] = url + "/"
        except ImportError:
            pass
        keycloak = catalog.components.get("keycloak")
        admin_user = "admin"
        if keycloak is not None:
            value = keycloak.env.get("KC_BOOTSTRAP_ADMIN_USERNAME")
            admin_user = value if isinstance(value, str) else admin_user
        return Summary(name=self.plan.name, project=self.project, urls=urls, admin_user=admin_user,
                       admin_email=self.plan.identity.admin_email, secrets_file=str(self.folder.secrets),
                       bundle_dir=str(self.folder.bundle), services=list(self.services),
                       front_door_urls=front_door)

    # ---- failure ------------------------------------------------------------------------

    def diagnose(self, stop: Stop) -> Diagnostics:
        """Before anything is removed: which service failed, its last health output and logs."""
        if not self.docker or not self.services:
            return Diagnostics(reason=redact(stop.reason, self.secret_values))
        statuses = project_status(self.docker, self.project, self.secret_values) or self.last_status
        by_svc = {s.component: s for s in statuses}
        svc = stop.service
        if svc is None:
            for pick in (lambda s: s.health == "unhealthy",
                         lambda s: s.state in ("exited", "dead") and (s.exit_code or 0) != 0,
                         lambda s: s.health == "starting" and s.failing_streak > 0,
                         lambda s: s.health == "starting" or s.state in ("created", "restarting")):
                found = [s for s in statuses if pick(s)]
                if found:
                    svc = found[0].component
                    break
        if svc is None:
            return Diagnostics(reason=redact(stop.reason, self.secret_values))
        st = by_svc.get(svc)
        logs = run(self.docker + ["compose", "--project-name", self.project, "logs", "--no-color",
                                  "--no-log-prefix", "--tail", str(LOG_TAIL), svc], timeout=30)
        lines = [redact(ln, self.secret_values) for ln in (logs.stdout + logs.stderr).splitlines() if ln.strip()]
        diag = Diagnostics(
            reason=redact(stop.reason, self.secret_values),
            service=svc,
            state=(f"{st.state}" + (f" ({st.health})" if st.health else "")) if st else None,
            health_output=st.last_health_output if st else "",
            log_lines=lines[-LOG_TAIL:],
        )
        self.emit("diagnostics", State.failed,
                  f"{svc}: {diag.state or 'not running'}; last health output: {diag.health_output or '(none)'}",
                  service=svc)
        return diag


# ---- helpers ------------------------------------------------------------------------------


def _compose_env(run_id: str, secret_names: Iterable[str] = ()) -> dict[str, str]:
    env = dict(os.environ)
    # Ours to decide: a person's COMPOSE_PROFILES/COMPOSE_FILE must not change what we launch.
    for key in ("COMPOSE_PROFILES", "COMPOSE_FILE", "COMPOSE_PROJECT_NAME", "COMPOSE_PROGRESS", "COMPOSE_ANSI"):
        env.pop(key, None)
    # Compose prefers the shell's variables over .env: an exported POSTGRES_PASSWORD would
    # silently replace the stored secret and break the next login. The secret store wins.
    for key in secret_names:
        env.pop(key, None)
    env[RUN_ID_ENV] = run_id
    return env


def _present_images(docker: list[str], images: set[str]) -> set[str]:
    res = run(docker + ["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"], timeout=60)
    listed = set(res.stdout.split())
    present = set()
    for image in images:
        if "@" in image:
            if run(docker + ["image", "inspect", "--format", "{{.Id}}", image], timeout=30).rc == 0:
                present.add(image)
            continue
        tagged = image if ":" in image.rsplit("/", 1)[-1] else f"{image}:latest"
        candidates = {tagged, tagged.removeprefix("docker.io/"), tagged.removeprefix("docker.io/library/")}
        if candidates & listed:
            present.add(image)
    return present


def _published(spec: dict[str, Any], target: int) -> tuple[str, int] | None:
    """The (host, port) a container port is published on, from ``compose config`` JSON."""
    for p in spec.get("ports") or []:
        if not isinstance(p, dict) or int(p.get("target") or 0) != int(target) or not p.get("published"):
            continue
        host = str(p.get("host_ip") or "127.0.0.1")
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "[::1]"
        elif ":" in host:
            host = f"[{host}]"
        return host, int(str(p["published"]).split("-")[0])
    return None


def _probe(url: str, budget: float, cancel: threading.Event) -> tuple[bool, str]:
    """GET ``url`` until it answers (<500, or 401/403: reachable but asks for a login)."""
    import time

    end = time.monotonic() + budget
    detail = "no answer"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - our own localhost URL
                return True, f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                return True, f"HTTP {exc.code} (login required)"
            detail = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            detail = str(getattr(exc, "reason", exc))
        if time.monotonic() >= end or cancel.wait(0.5):
            return False, detail


def _paragraph(name: str, stop: Stop, diag: Diagnostics, rollback: Any) -> str:
    if stop.cancelled:
        what = f"The launch of {name} was cancelled ({stop.reason})."
    else:
        what = f"The launch of {name} failed: {diag.reason}."
    if diag.service:
        what += f" The service to look at is {diag.service} ({diag.state or 'not running'})"
        if diag.health_output:
            what += f"; its last health check said: {diag.health_output.strip()[-300:]!r}"
        if diag.log_lines:
            what += f"; its last log line: {diag.log_lines[-1][-300:]!r}"
        what += "."
    if rollback is not None:
        what += f" {rollback.message}"
    return what
