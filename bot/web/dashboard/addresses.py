"""Who a request comes from, and whether it came over https: the peer's address, or, when
the peer is a trusted reverse proxy (`[api] trusted_proxies`), the address it forwarded
(`X-Forwarded-For`; from anyone else the header is ignored: a client could write it)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web

from videobot.api_config import network_of

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Addresses:
    """The client address and scheme rules of one configuration."""

    def __init__(self, trusted_proxies: Sequence[str]) -> None:
        self.trusted = networks_of(trusted_proxies)

    def client(self, request: web.Request) -> str:
        """The client's address: the peer's, or the nearest forwarded one that is not a
        trusted proxy."""
        address = request.remote or ""
        if not self._trusted(address):
            return address
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
        for hop in reversed([hop for hop in hops if hop]):
            address = hop
            if not self._trusted(hop):
                break
        return address

    def is_https(self, request: web.Request) -> bool:
        """Whether the browser reached us over https, directly or through a proxy. Any peer
        is believed here: a client that lies only makes its own cookies https-only."""
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return request.secure or forwarded == "https"

    def _trusted(self, address: str) -> bool:
        return allowed(address, self.trusted)


def allowed(address: str, networks: Sequence[Network]) -> bool:
    """Whether `address` lies in one of `networks` (an IPv4 address mapped into IPv6 counts
    as itself)."""
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def networks_of(entries: Sequence[str]) -> list[Network]:
    """The networks of config entries (validated at start)."""
    return [network for network in map(network_of, entries) if network is not None]
