"""The wizard's install view names each component's address from the install's saved answers,
front door first, and never names a database port as a web page."""

from __future__ import annotations

from installer.answers import plan_from_dict, save_answers
from installer.catalog import load_catalog
from installer.installs import install_addresses
from installer.render.compose import front_door_url
from installer.state import install_dir


def test_front_door_first_then_published_ports_with_their_own_scheme() -> None:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "addr", "compose": {"ports": {"postgres": 15432}}})
    catalog = load_catalog()
    folder = install_dir(plan.name)
    folder.root.mkdir(parents=True)
    assert install_addresses(plan.name) == []  # nothing saved: nothing guessed
    save_answers(plan, folder.answers)

    found = install_addresses(plan.name)
    routed = [c for c in plan.enabled_components(catalog) if front_door_url(plan, catalog, c)]
    assert routed, "the default plan runs the front door with routes"
    assert [c for c, _ in found[: len(routed)]] == routed
    assert all(a.startswith("http://") and ".localhost" in a for _, a in found[: len(routed)])
    assert ("postgres", "postgresql://pgadmin@localhost:15432/postgres") in found
    assert not any(c in ("postgres", "redis") and a.startswith("http") for c, a in found)


def test_not_a_compose_install_has_no_local_addresses() -> None:
    plan = plan_from_dict({"apiVersion": "fabrix/v1", "name": "addr-aca", "model": "container", "target": "aca",
                           "azure": {"subscription_id": "00000000-0000-0000-0000-000000000000", "location": "westeurope"}})
    folder = install_dir(plan.name)
    folder.root.mkdir(parents=True)
    save_answers(plan, folder.answers)
    assert install_addresses(plan.name) == []
