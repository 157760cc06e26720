"""Resource provider registration — a change to the subscription, so only after confirmation.

``fabrix check`` never registers; it prints ``register_command``. The wizard asks, then calls
``register_providers`` from a thread worker.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ProviderState:
    namespace: str
    state: str  # NotRegistered | Registering | Registered | Unregistering | (error text)


def register_command(namespaces: Iterable[str], subscription_id: str | None = None) -> str:
    sub = f" --subscription {subscription_id}" if subscription_id else ""
    return " && ".join(f"az provider register --namespace {ns}{sub} --wait" for ns in namespaces)


def provider_states(session: Any, subscription_id: str) -> dict[str, str]:
    """Registration state of every provider namespace, keyed by lower-case namespace."""
    client = session.clients.resources(subscription_id)
    return {str(p.namespace).lower(): str(getattr(p.registration_state, "value", p.registration_state) or "") for p in client.providers.list()}


def register_providers(
    session: Any,
    subscription_id: str,
    namespaces: Iterable[str],
    *,
    timeout: float = 600.0,
    poll_interval: float = 5.0,
    on_state: Callable[[ProviderState], None] | None = None,
) -> list[ProviderState]:
    """Register ``namespaces`` and wait until each is Registered (or ``timeout`` passes).

    Needs ``<namespace>/register/action`` at subscription scope (Contributor or Owner there).
    ``on_state`` is called from this thread on every state change (for progress display).
    """
    client = session.clients.resources(subscription_id)
    pending = list(dict.fromkeys(namespaces))
    states: dict[str, str] = {}
    for ns in pending:
        provider = client.providers.register(ns)
        states[ns] = str(getattr(provider.registration_state, "value", provider.registration_state) or "Registering")
        if on_state:
            on_state(ProviderState(ns, states[ns]))
    deadline = time.monotonic() + timeout
    while any(states[ns] != "Registered" for ns in pending) and time.monotonic() < deadline:
        time.sleep(poll_interval)
        for ns in pending:
            if states[ns] == "Registered":
                continue
            state = client.providers.get(ns).registration_state
            new = str(getattr(state, "value", state) or "")
            if new != states[ns]:
                states[ns] = new
                if on_state:
                    on_state(ProviderState(ns, new))
    return [ProviderState(ns, states[ns]) for ns in pending]
