"""One prerequisite check: status word (not colour alone), what was found, and the remedy."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from installer.checks import CheckResult, Status

BADGES: dict[Status, str] = {
    Status.passed: "✓ PASS",
    Status.warn: "! WARN",
    Status.fail: "✗ FAIL",
    Status.unknown: "? ----",
}


class CheckRow(Static):
    DEFAULT_CSS = """
    CheckRow { height: auto; padding: 0 1; }
    CheckRow.-running { color: $text-muted; }
    CheckRow.-pass .badge { color: $text-success; }
    """

    def __init__(self, check_id: str, title: str) -> None:
        super().__init__(f"[b]… ....[/b]  {title}  [dim]checking…[/]", classes="-running")
        self.check_id = check_id
        self.title = title
        self.result: CheckResult | None = None
        # Checks that could not run because this one failed: listed here, once, not as rows,
        # in the report's order (they finish in any order). (order, title) pairs.
        self._dependents: list[tuple[int, str]] = []

    @property
    def dependents(self) -> list[str]:
        return [title for _order, title in sorted(self._dependents)]

    def add_dependent(self, title: str, order: int = 0) -> None:
        if title not in self.dependents:
            self._dependents.append((order, title))
        if self.result is not None:
            self.show(self.result)

    def show(self, result: CheckResult) -> None:
        self.result = result
        self.remove_class("-running")
        for status in Status:
            self.set_class(result.status is status, f"-{status.value}")
        # A grid keeps wrapped "found"/"fix" lines aligned under the title at any width.
        body = Text(result.title, style="bold")
        body.append("\nfound: ", style="dim").append(result.found)
        if result.remedy and result.status is not Status.passed:
            body.append("\nfix:   ", style="dim").append(result.remedy)
        if self.dependents:
            body.append(f"\nnot verified until this is fixed ({len(self.dependents)}): ", style="dim")
            body.append(", ".join(self.dependents))
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=6, no_wrap=True)
        grid.add_column(ratio=1)
        grid.add_row(Text(BADGES[result.status], style="bold"), body)
        self.update(grid)
