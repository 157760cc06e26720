"""Subscription data the wizard and the checks read: tenants, subscriptions, regions.

Region names: ARM's ``name`` is ``swedencentral``; the providers API lists *display names*
("Sweden Central"). ``RegionIndex`` maps both ways, so comparisons never rely on string luck.
"""

from __future__ import annotations

import difflib

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TenantInfo:
    tenant_id: str
    display_name: str
    default_domain: str


@dataclass(frozen=True)
class SubscriptionInfo:
    subscription_id: str
    display_name: str
    tenant_id: str
    state: str  # Enabled | Warned | PastDue | Disabled | Deleted
    quota_id: str  # offer type, e.g. PayAsYouGo_2014-09-01, FreeTrial_2014-09-01
    spending_limit: str  # On | Off | CurrentPeriodOff

    def label(self) -> str:
        return f"{self.display_name} ({self.subscription_id})"


@dataclass(frozen=True)
class LocationInfo:
    name: str  # swedencentral
    display_name: str  # Sweden Central
    region_type: str  # Physical | Logical
    geography: str
    paired: tuple[str, ...] = ()
    # Logical availability zones ("1", "2", "3") this subscription sees in the region, from the
    # locations API's availabilityZoneMappings; empty: the region has no zones (for us).
    zones: tuple[str, ...] = ()

    @property
    def physical(self) -> bool:
        return self.region_type.lower() != "logical"


def normalize_region(value: str) -> str:
    """``Sweden Central`` / ``swedencentral`` / ``SWEDEN central`` → ``swedencentral``."""
    return "".join(value.split()).lower()


class RegionIndex:
    """Name ↔ display name for the regions a subscription knows."""

    def __init__(self, locations: Iterable[LocationInfo]) -> None:
        self.locations = list(locations)
        self._by_key: dict[str, LocationInfo] = {}
        for loc in self.locations:
            self._by_key[normalize_region(loc.name)] = loc
            self._by_key[normalize_region(loc.display_name)] = loc

    def resolve(self, value: str) -> str:
        """The ARM region name for a name or display name (normalised when unknown)."""
        loc = self._by_key.get(normalize_region(value))
        return loc.name if loc else normalize_region(value)

    def get(self, value: str) -> LocationInfo | None:
        return self._by_key.get(normalize_region(value))

    def names(self) -> set[str]:
        return {loc.name for loc in self.locations}


def _str(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


def subscription_info(sub: Any) -> SubscriptionInfo:
    policies = getattr(sub, "subscription_policies", None)
    return SubscriptionInfo(
        subscription_id=_str(sub.subscription_id),
        display_name=_str(sub.display_name),
        tenant_id=_str(getattr(sub, "tenant_id", "")),
        state=_str(sub.state),
        quota_id=_str(getattr(policies, "quota_id", "")),
        spending_limit=_str(getattr(policies, "spending_limit", "")),
    )


def location_info(loc: Any) -> LocationInfo:
    meta = getattr(loc, "metadata", None)
    paired = tuple(_str(p.name) for p in (getattr(meta, "paired_region", None) or []) if getattr(p, "name", None))
    return LocationInfo(
        name=_str(loc.name),
        display_name=_str(loc.display_name) or _str(loc.name),
        region_type=_str(getattr(meta, "region_type", "")) or "Physical",
        geography=_str(getattr(meta, "geography", "")),
        paired=paired,
        zones=tuple(sorted({_str(m.logical_zone) for m in (getattr(loc, "availability_zone_mappings", None) or [])
                            if getattr(m, "logical_zone", None)})),
    )


def list_tenants(session: Any) -> list[TenantInfo]:
    """Tenants the signed-in principal can reach (for the tenant picker)."""
    client = session.clients.subscriptions()
    return sorted(
        (
            TenantInfo(_str(t.tenant_id), _str(getattr(t, "display_name", "")), _str(getattr(t, "default_domain", "")))
            for t in client.tenants.list()
        ),
        key=lambda t: (t.display_name.lower(), t.tenant_id),
    )


def list_subscriptions(session: Any) -> list[SubscriptionInfo]:
    """Subscriptions the signed-in principal can see, sorted by name."""
    client = session.clients.subscriptions()
    subs = [subscription_info(s) for s in client.subscriptions.list()]
    return sorted(subs, key=lambda s: (s.display_name.lower(), s.subscription_id))


def get_subscription(session: Any, subscription_id: str) -> SubscriptionInfo:
    return subscription_info(session.clients.subscriptions().subscriptions.get(subscription_id))


def region_problem(name: str, locations: Iterable[LocationInfo]) -> str | None:
    """None when ``name`` (a region name or display name) is one of ``locations``; otherwise what
    is wrong, with the closest names (``marsnorth`` → "did you mean …?")."""
    index = RegionIndex(locations)
    if index.get(name) is not None:
        return None
    physical = sorted(loc.name for loc in index.locations if loc.physical)
    close = difflib.get_close_matches(normalize_region(name), physical, n=3, cutoff=0.6)
    near = f"; did you mean {' or '.join(close)}?" if close else f"; e.g. {', '.join(physical[:3])}" if physical else ""
    return f"{name} is not a region of this subscription{near}"


def list_locations(session: Any, subscription_id: str, physical_only: bool = True) -> list[LocationInfo]:
    """Regions of the subscription (physical ones by default: logical ones host no resources)."""
    client = session.clients.subscriptions()
    locs = [location_info(loc) for loc in client.subscriptions.list_locations(subscription_id)]
    if physical_only:
        locs = [loc for loc in locs if loc.physical]
    return sorted(locs, key=lambda loc: loc.display_name.lower())
