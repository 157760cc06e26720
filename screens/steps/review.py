"""Review: the plan in plain words, the generated files (tree + preview), what changed; save/export/launch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.markup import escape
from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Static, TabbedContent, TabPane, Tree

from installer.answers import dump_answers, save_answers
from installer.checks.base import summarize
from installer.errors import FabrixError, UsageError
from installer.fsutil import write_atomic
from installer.flow import Step, launchable
from installer.render import Bundle
from installer.state import install_dir
from screens.deps import NotBuilt
from screens.dialogs.path import PathDialog
from screens.dialogs.choice import ChoiceDialog
from screens.messages import AzurePreviewed, Rendered, ScanNote
from screens.steps.base import StepScreen
from screens.summary import describe_plan

_LEXERS = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".md": "markdown", ".bicep": "bicep",
           ".sh": "bash", ".env": "ini", ".sql": "sql", ".conf": "ini", ".toml": "toml"}


def _digests_on_disk(folder: Path) -> dict[str, str]:
    import hashlib

    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def bundle_diff(bundle: Bundle, folder: Path, limit: int = 4000) -> str:
    """A unified diff of what an update changes: the install's bundle on disk → this render.

    Files holding secrets are never diffed (their values would show); they are named only.
    """
    import difflib

    if not folder.is_dir():
        return ""
    out: list[str] = []
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    for path in sorted(set(bundle) | on_disk):
        old_file = folder / path
        new = bundle.files[path] if path in bundle else None
        old = old_file.read_bytes() if path in on_disk else None
        if old == new:
            continue
        if path in bundle.private:
            out.append(f"# {path}: changed (holds secret values: not shown)")
            continue
        if new is None:  # gone from the plan; what it held is not shown (it may have held secrets)
            out.append(f"# {path}: removed")
            continue
        out += difflib.unified_diff(
            (old or b"").decode("utf-8", "replace").splitlines(),
            (new or b"").decode("utf-8", "replace").splitlines(),
            fromfile=f"installed/{path}" if old is not None else "/dev/null",
            tofile=f"planned/{path}" if new is not None else "/dev/null",
            lineterm="",
        )
        if len(out) > limit:
            out.append(f"… (diff cut at {limit} lines)")
            break
    return "\n".join(out)


def change_marks(now: dict[str, str], before: dict[str, str]) -> dict[str, str]:
    """path → "new" / "changed" / "same" / "removed" against the previous render."""
    if not before:
        return {}
    marks = {p: "new" if p not in before else ("same" if before[p] == d else "changed") for p, d in now.items()}
    marks.update({p: "removed" for p in before if p not in now})
    return marks


class ReviewScreen(StepScreen):
    STEP = Step.review
    HELP = (
        "Everything fabrix will do, before it does it.\n\n"
        "- **Summary**: the plan in plain words.\n"
        "- **Files**: every generated file; move in the tree to preview it (files holding secrets"
        " are listed but never shown).\n"
        "- **Changes**: what differs from the last render of this install.\n\n"
        "**Ctrl+S** saves the answers file (replay it with `fabrix up --answers FILE`),"
        " **Ctrl+E** exports the reviewer archive (the same zip as `fabrix export`, no secrets), **Ctrl+L** launches"
        " (after the checks pass; the manual model is a runbook and is not launched).\n\n"
        "For Azure, the Summary shows ARM's preview (what-if): how many resources would be created,"
        " modified, deleted or left unchanged, and every modify and delete. A change to a resource"
        " this install does not own blocks Launch until you type the resource group's name in the"
        " box under it (the wizard's `--allow-foreign-changes`)."
    )
    BINDINGS = [
        Binding("ctrl+s", "save_answers", "Save answers", id="save_answers"),
        Binding("ctrl+e", "export", "Export", id="export"),
        Binding("ctrl+l", "launch", "Launch", id="launch"),
    ]

    bundle: Bundle | None = None
    diff_text = ""  # what an update of the installed bundle changes (unified diff)

    def compose_body(self) -> ComposeResult:
        with TabbedContent(id="review-tabs"):
            with TabPane("Summary", id="tab-summary"):
                yield Static(describe_plan(self.plan), id="summary")
                yield Static("", id="launch-note", classes="notice")
                azure_preview = Static("", id="azure-preview")
                azure_preview.display = False  # Azure plans only
                yield azure_preview
                confirm = Input(id="foreign-confirm", placeholder="type the resource group's name to allow")
                confirm.display = False  # only when the preview changes resources this install does not own
                yield confirm
                scan_note = Static("", id="scan-note")
                scan_note.display = False  # Compose plans have no scan to speak of
                yield scan_note
            with TabPane("Files", id="tab-files"):
                with Horizontal(id="files"):
                    yield Tree("rendering…", id="file-tree")
                    with VerticalScroll(id="preview-box"):
                        yield Static("", id="preview")
            with TabPane("Changes", id="tab-changes"):
                with VerticalScroll(id="changes-box"):
                    yield Static("rendering…", id="changes")
                    yield Static("", id="changes-diff")

    previewing = False  # ARM's what-if is running in a worker
    preview_problem: str | None = None  # bad input the preview hit (the launch would stop on it too)

    def on_mount(self) -> None:
        # A confirmation answers the preview shown on this visit, not an earlier one.
        self.wizard.allow_foreign_changes = False
        self.wizard.azure_preview = None
        if self.plan.is_azure() and launchable(self.plan):
            note = self.query_one("#azure-preview", Static)
            note.display = True
            if self.plan.azure.subscription_id and self.plan.azure.location:
                self.previewing = True
                note.update("[b]Preview[/b] (ARM what-if): asking ARM what the deployment would change…")
                self.preview_worker(self.plan, self.wizard.session_for_plan())
            else:
                note.update("[b]Preview[/b] (ARM what-if): needs a subscription and a region (Target step).")
        self._show_launch_state()
        # Render once the step is on screen: the render holds the GIL for a while, and started
        # at mount it slowed the step's own first paint (issue 11's step-change goal).
        self.call_after_refresh(self.render_bundle)

    def launch_blocked(self) -> str | None:
        """Why Launch is not possible now (the checks, the Azure preview), or None."""
        why = self.wizard.checks_block_launch()
        if why or not self.plan.is_azure():
            return why
        if self.previewing:
            return "ARM's preview (what-if) is still running"
        if self.preview_problem:
            return f"the preview found a problem the launch would stop on: {self.preview_problem}"
        preview = self.wizard.azure_preview
        if preview is not None and preview.foreign and not self.wizard.allow_foreign_changes:
            return (f"the deployment would change {len(preview.foreign)} resource(s) this install does not own;"
                    " type the resource group's name in the box below to allow it")
        return None

    def _show_launch_state(self) -> None:
        why = self.launch_blocked()
        self.query_one("#launch-note", Static).update(f"Launch: not yet — {why}." if why else "Launch: ready (Ctrl+L).")
        self.query_one("#nav-next").disabled = why is not None
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "launch":
            return None if self.launch_blocked() else True
        if action == "next":
            return None if self.launch_blocked() else super().check_action(action, parameters)
        return super().check_action(action, parameters)

    # ---- the Azure preview (what-if) ----

    def _resource_group(self) -> str:
        from installer.render.workload import azure_names

        return azure_names(self.plan).resource_group

    @work(thread=True, exclusive=True, group="azure-preview", exit_on_error=False)
    def preview_worker(self, plan: object, session: object) -> None:
        try:
            preview = self.wizard.deps.preview(plan, session)
        except UsageError as exc:
            # Bad input (a value the deployment needs is missing): the launch would stop on it too.
            self.post_message(AzurePreviewed(None, problem=f"{exc.message} (fix: {exc.hint})" if exc.hint else exc.message,
                                             blocks=True))
            return
        except (NotBuilt, FabrixError) as exc:
            self.post_message(AzurePreviewed(None, problem=str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - an SDK or network error: the launch previews again
            self.post_message(AzurePreviewed(None, problem=f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(AzurePreviewed(preview))

    def on_azure_previewed(self, message: AzurePreviewed) -> None:
        self.previewing = False
        note = self.query_one("#azure-preview", Static)
        preview = message.preview
        if preview is None:
            self.preview_problem = message.problem if message.blocks else None
            if message.blocks:
                note.update(f"[b]Preview[/b] (ARM what-if) could not run: {escape(message.problem or 'unknown')}.")
            else:
                note.update(f"[b]Preview[/b] (ARM what-if) did not run: {escape(message.problem or 'unknown')}. The"
                            " launch asks ARM again before it deploys and stops if a change touches what this install"
                            " does not own.")
            self._show_launch_state()
            return
        self.wizard.azure_preview = preview
        lines = [f"[b]Preview[/b] (ARM what-if; nothing is changed yet): {preview.headline()}"]
        lines += [f"  {'⚠ ' if not c.owned else ''}{escape(c.describe())}" for c in preview.changes]
        if preview.foreign:
            group = self._resource_group()
            lines += ["", f"[b]⚠ {len(preview.foreign)} change(s) touch resources this install does not own.[/b]"
                          f" The launch refuses them unless you allow it: type [b]{escape(group)}[/b] below."
                          " Otherwise choose another resource group on Target."]
            confirm = self.query_one("#foreign-confirm", Input)
            confirm.display = True
        note.update("\n".join(lines))
        self._show_launch_state()

    @on(Input.Changed, "#foreign-confirm")
    def _foreign_confirm_changed(self, event: Input.Changed) -> None:
        self.wizard.allow_foreign_changes = event.value.strip() == self._resource_group()
        self._show_launch_state()

    def action_next(self) -> None:
        if self.check_action("launch", ()) is True:
            self.action_launch()

    @work(thread=True, exclusive=True, group="render", exit_on_error=False)
    def render_bundle(self) -> None:
        plan = self.plan
        before = dict(self.wizard.last_digests) or _digests_on_disk(install_dir(plan.name).bundle)
        try:
            bundle = self.wizard.deps.render(plan)
        except (NotBuilt, FabrixError) as exc:
            self.post_message(Rendered(None, before, problem=str(exc)))
            return
        self.post_message(Rendered(bundle, before, diff=bundle_diff(bundle, install_dir(plan.name).bundle)))
        if plan.is_azure():  # the export scans Azure templates and manifests, not Compose files
            from installer.validate.checkov import checkov_executable

            if checkov_executable() is None:
                self.post_message(ScanNote(
                    "⚠ Security scan (checkov): not installed here, so it does not run — the export"
                    " and its REVIEW.md say so too. Fix: scripts/test-deps.sh, or set FABRIX_CHECKOV"
                    " to the checkov executable.", missing=True))
            else:
                self.post_message(ScanNote("Security scan (checkov): runs on export (Ctrl+E).", missing=False))

    def on_scan_note(self, message: ScanNote) -> None:
        note = self.query_one("#scan-note", Static)
        note.update(message.text)
        note.display = True
        note.set_class(message.missing, "notice")

    def on_rendered(self, message: Rendered) -> None:
        tree = self.query_one("#file-tree", Tree)
        tree.clear()
        changes = self.query_one("#changes", Static)
        if message.bundle is None:
            tree.root.set_label("no files")
            self.query_one("#preview", Static).update(f"Nothing rendered: {message.problem}")
            changes.update(f"Nothing rendered: {message.problem}")
            return
        self.bundle = message.bundle
        digests = dict(message.bundle.digests())
        marks = change_marks(digests, message.previous)
        self.wizard.last_digests = digests
        tree.root.set_label(f"{len(message.bundle)} files")
        tree.root.expand()
        folders: dict[str, object] = {"": tree.root}
        for path in message.bundle:
            parent_key = ""
            parts = path.split("/")
            for depth, part in enumerate(parts[:-1]):
                key = "/".join(parts[: depth + 1])
                if key not in folders:
                    folders[key] = folders[parent_key].add(part + "/", expand=True)  # type: ignore[attr-defined]
                parent_key = key
            mark = {"new": " [b]+new[/b]", "changed": " [b]~changed[/b]"}.get(marks.get(path, ""), "")
            folders[parent_key].add_leaf(parts[-1] + mark, data=path)  # type: ignore[attr-defined]
        if not marks:
            changes.update("First render of this install: every file is new.")
        else:
            listing = [f"  {kind:8} {p}" for p, kind in sorted(marks.items()) if kind != "same"]
            changes.update("\n".join(listing) if listing else "No change since the last render.")
        self.diff_text = message.diff
        if message.diff:
            self.query_one("#changes-diff", Static).update(
                Syntax(message.diff, "diff", theme="ansi_dark", background_color="default", word_wrap=True))
        first = next((p for p in message.bundle if p not in message.bundle.private), None)
        if first:
            self._preview(first)
        self.refresh_bindings()

    @on(Tree.NodeHighlighted, "#file-tree")
    def _node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        if isinstance(event.node.data, str):
            self._preview(event.node.data)

    def _preview(self, path: str) -> None:
        assert self.bundle is not None
        preview = self.query_one("#preview", Static)
        if path in self.bundle.private:
            preview.update(f"{path} holds secret values: it is written with mode 0600 and never shown.")
            return
        text = self.bundle.files[path].decode("utf-8", errors="replace")
        lexer = _LEXERS.get(Path(path).suffix, "text")
        preview.update(Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark",
                              background_color="default"))

    # ---- actions ----

    def _export_stem(self) -> str:
        """``<install>-<model>[-<target>]``: exports of different installs or models never share a name."""
        target = self.plan.effective_target()
        return f"{self.plan.name}-{self.plan.model.value}" + (f"-{target.value}" if target else "")

    def _unless_declined(self, path: Path, then: Callable[[Path], None]) -> None:
        """Run ``then(path)`` at once for a new file; for an existing one, only if the person says so."""
        if not path.exists():
            then(path)
            return

        def answered(choice: str | None) -> None:
            if choice == "replace":
                then(path)
            else:
                self.notify(f"Kept {path}; nothing was written.")

        self.app.push_screen(ChoiceDialog(
            "Replace the existing file?", f"{path} already exists.",
            [("keep", "Keep it"), ("replace", "Replace it")],
        ), answered)

    def action_save_answers(self) -> None:
        default = self.wizard.deps.workdir / f"{self._export_stem()}-answers.yaml"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._unless_declined(path, save)

        def save(path: Path) -> None:
            try:
                save_answers(self.plan, path)
            except OSError as exc:
                self.notify(f"Could not write {path}: {exc.strerror}", severity="error")
                return
            self.notify(f"Saved {path}. Replay it with: fabrix up --answers {path}")

        self.app.push_screen(PathDialog("Save the answers file", "Secrets are not included.", default), chosen)

    def action_export(self) -> None:
        default = self.wizard.deps.workdir / f"{self._export_stem()}-review.zip"

        def export(path: Path) -> None:
            self.notify(f"Exporting to {path}…")
            self.export_archive(path)

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._unless_declined(path if path.suffix.lower() == ".zip" else path.with_suffix(".zip"), export)

        self.app.push_screen(
            PathDialog(
                "Export the blueprints for review",
                "The same archive `fabrix export` writes: every blueprint (no secret in any),"
                " the answers, this screen's check results, REVIEW.md and a SHA-256 MANIFEST.",
                default,
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export_archive(self, path: Path) -> None:
        from installer.pipeline import install_secrets
        from installer.commands.export import archive_bytes, build_entries

        plan = self.plan
        results = list((self.wizard.check_results or {}).values())
        report = (
            json.dumps({"checks": [r.to_json() for r in results], "summary": summarize(results)}).encode("utf-8")
            if results else None
        )
        if path.suffix.lower() != ".zip":
            path = path.with_suffix(".zip")
        try:
            entries, _findings = build_entries(plan, dump_answers(plan).encode("utf-8"),
                                               install_secrets(plan).values(), report)
            write_atomic(path, archive_bytes(entries))
        except FabrixError as exc:
            self.app.notify(f"Export failed: {exc.message}", severity="error", timeout=15)
            return
        except OSError as exc:
            self.app.notify(f"Could not write {path}: {exc.strerror}", severity="error")
            return
        skipped = [f.message for f in _findings if f.validator == "checkov" and f.severity == "warning"]
        self.app.notify(f"Exported {len(entries)} entries to {path}; start with REVIEW.md."
                        + (f" Note: {skipped[0]}" if skipped else ""),
                        severity="warning" if skipped else "information", timeout=15 if skipped else 5)

    def action_launch(self) -> None:
        why = self.launch_blocked()
        if why:
            self.notify(f"Cannot launch: {why}.", severity="warning")
            return
        self.wizard.goto(Step.launch)
