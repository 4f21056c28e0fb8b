"""SSRF guard: refuse URLs whose host resolves to a non-public address.

The prober (and the content stage) fetch URLs written by third parties. Without this guard a resource URL
could make the auditor talk to its own machine or the internal network (``http://169.254.169.254/``,
``http://localhost:5432/``). This module judges addresses; :mod:`audit.httppolicy` applies the judgement in every
HTTP client when the connection is opened (every hop of a redirect chain), so a DNS answer cannot change between
the check and the connection.

Pure functions, no network. The allow-list (the portal's own host and ``probe.allow_hosts``, whose addresses are
not judged) is the policy's: :meth:`audit.httppolicy.HttpPolicy.allows`, exact host name or IP literal,
case-insensitive, without port, normalised with :func:`normalize_host`.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SUPPORTED_SCHEMES = frozenset({"http", "https"})

# Ranges not covered (or not covered on every Python version) by the ipaddress flags.
_EXTRA_V4: tuple[tuple[ipaddress.IPv4Network, str], ...] = (
    (ipaddress.IPv4Network("100.64.0.0/10"), "shared"),  # carrier-grade NAT
    (ipaddress.IPv4Network("192.0.0.0/24"), "reserved"),
    (ipaddress.IPv4Network("198.18.0.0/15"), "reserved"),  # benchmarking
)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UnsafeAddressError(Exception):
    """The URL's host is (or resolves to) an address the auditor must not contact."""

    def __init__(self, host: str, reason: str, address: str | None = None) -> None:
        self.host = host
        self.reason = reason
        self.address = address
        shown = f" ({address})" if address and address != host else ""
        super().__init__(f"Dirección no pública rechazada: {host}{shown} es {reason}")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """IPv4 address carried inside an IPv6 one (mapped, 6to4, Teredo client, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def unsafe_reason(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be contacted ("loopback", "private", …), or None for a public address.

    Pure function: no network. IPv4-mapped/6to4/Teredo/NAT64 IPv6 addresses are judged by the IPv4 inside.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            return unsafe_reason(inner)
        if ip.scope_id:
            return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address):
        for net, reason in _EXTRA_V4:
            if ip in net:
                return reason
        if ip == ipaddress.IPv4Address("255.255.255.255"):
            return "broadcast"
    if isinstance(ip, ipaddress.IPv6Address) and ip in ipaddress.IPv6Network("fec0::/10"):
        return "site-local"
    if ip.is_reserved:
        return "reserved"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"
    return None


def normalize_host(host: str) -> str:
    host = host.strip().lower().rstrip(".")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host


def parse_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(normalize_host(host).split("%", 1)[0])
    except ValueError:
        return None


def check_ip_literal(host: str) -> None:
    """Raise UnsafeAddressError if ``host`` is an unsafe IP literal; hostnames pass (resolved later)."""
    ip = parse_ip(host)
    if ip is not None:
        reason = unsafe_reason(ip)
        if reason:
            raise UnsafeAddressError(host, reason, str(ip))


def check_addresses(host: str, addresses: list[str]) -> list[str]:
    """``addresses`` (what ``host`` resolved to) if every one is public; raise UnsafeAddressError if not."""
    for addr in addresses:
        ip = parse_ip(addr)
        if ip is None:  # pragma: no cover - getaddrinfo returns numeric addresses
            raise UnsafeAddressError(host, "invalid", addr)
        reason = unsafe_reason(ip)
        if reason:
            raise UnsafeAddressError(host, reason, addr)
    return addresses
