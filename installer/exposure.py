"""Who can reach the published ports: the bind address says it (Docker publishes on it).

127.0.0.1 / ::1 keep the stack to this machine; 0.0.0.0 / :: publish on every interface, so
anyone who can reach this machine over the network can connect (Docker also inserts its own
firewall rules ahead of ufw/firewalld for published ports — docs.docker.com/engine/network/
packet-filtering-firewalls/ — so a host firewall does not necessarily stop them). Any other
address is one interface's: reachable from that interface's network.
"""

from __future__ import annotations

import ipaddress


KEEP_PRIVATE = "127.0.0.1 keeps it to this machine"
# Docker's own rules for published ports come before ufw/firewalld's (the Docker docs' "Packet
# filtering and firewalls" page): a host firewall does not necessarily stop them.
FIREWALL_NOTE = "Docker's published ports bypass ufw/firewalld rules"


def bind_exposure(address: str) -> str | None:
    """None when only this machine can connect; otherwise what becomes reachable from where."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None  # not an address: the plan's own validation says so
    if ip.is_loopback:
        return None
    if ip.is_unspecified:
        return f"{address} listens on every interface: the stack becomes reachable from the network"
    return f"{address} is one interface: the stack becomes reachable from its network"
