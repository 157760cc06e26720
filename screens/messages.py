"""Messages that worker threads post to the UI (``post_message`` is thread-safe)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message

from installer.checks import CheckResult
from installer.render import Bundle
from screens.deps import Facts


@dataclass
class FactsFound(Message):
    facts: Facts


@dataclass
class ChecksPlanned(Message):
    checks: list[tuple[str, str]]  # (id, title)


@dataclass
class CheckFinished(Message):
    result: CheckResult


@dataclass
class ChecksDone(Message):
    problem: str | None = None  # set when the checks could not run at all


@dataclass
class Rendered(Message):
    bundle: Bundle | None
    previous: dict[str, str]  # path -> sha256 of the last render on disk / in this session
    problem: str | None = None
    diff: str = ""  # unified diff against the install's bundle on disk (files holding secrets left out)


@dataclass
class InstallsFound(Message):
    """The installs on this machine with their state (installer.installs.InstallInfo)."""

    installs: list[Any]


@dataclass
class ScanNote(Message):
    """Whether the export's security scan (checkov) can run here, in words for Review."""

    text: str
    missing: bool


class LaunchProgress(Message):
    """Events are waiting in the Launch screen's queue. Pending ones collapse into one message,
    so a burst of Compose events costs the UI one update, not hundreds."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LaunchProgress)


@dataclass
class LaunchFinished(Message):
    result: Any
    problem: str | None = None  # the engine raised, or is missing: the text to show


@dataclass
class RollbackFinished(Message):
    result: Any
    problem: str | None = None


@dataclass
class AzureNote(Message):
    """A line for the sign-in area (progress, the device code to enter, or what went wrong)."""

    text: str


@dataclass
class AzureSignedIn(Message):
    session: Any
    who: str
    subscriptions: list[Any]  # installer.azure.subscriptions.SubscriptionInfo


@dataclass
class AzureLocations(Message):
    subscription_id: str
    locations: list[Any]  # installer.azure.subscriptions.LocationInfo


@dataclass
class AzurePreviewed(Message):
    """ARM's what-if for Review (installer.launch.azure.preview.Preview), or why it did not run."""

    preview: Any
    problem: str | None = None
    blocks: bool = False  # bad input (UsageError): the launch would stop on it too


@dataclass
class DataFolderChecked(Message):
    """The Target step's look at the data folder (``installer.datafolder``): None when usable."""

    folder: str  # what was typed (empty: the state folder's data/), to drop stale answers
    problem: str | None
