"""SSRF guard: address classification is pure (no network); end-to-end checks use only loopback and .invalid."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from audit.netguard import UnsafeAddressError, check_host, check_ip_literal, check_url_sync, unsafe_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "broadcast"),
        ("100.64.0.1", "shared"),
        ("198.18.0.1", "reserved"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:0001::", "loopback"),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 wrapping 10.0.0.1
        ("2001:db8::1", "private"),  # documentation range
    ],
)
def test_unsafe_reason_refuses_non_public_addresses(address: str, reason: str) -> None:
    assert unsafe_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["8.8.8.8", "187.141.1.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"])
def test_unsafe_reason_accepts_public_addresses(address: str) -> None:
    assert unsafe_reason(ipaddress.ip_address(address)) is None


def test_check_ip_literal_raises_with_reason() -> None:
    with pytest.raises(UnsafeAddressError) as info:
        check_ip_literal("[::ffff:127.0.0.1]")
    assert info.value.reason == "loopback"
    check_ip_literal("datos.edomex.gob.mx")  # names are resolved later, not here


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://datos.example/a.csv", "unsupported_scheme"),
        ("file:///etc/passwd", "unsupported_scheme"),
        ("mailto:datos@example.org", "unsupported_scheme"),
        ("http://", "malformed_url"),
        ("http://[::1", "malformed_url"),
        ("http://127.0.0.1:8080/x", "loopback"),
        ("http://localhost/x", "loopback"),
        ("http://[::ffff:192.168.0.1]/x", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ],
)
def test_check_url_sync_reasons(url: str, reason: str) -> None:
    assert check_url_sync(url, allow_hosts=()) == reason


def test_check_url_sync_allowlist_and_unresolvable() -> None:
    assert check_url_sync("http://127.0.0.1:8080/x", allow_hosts=["127.0.0.1"]) is None
    assert check_url_sync("http://LOCALHOST./x", allow_hosts=["localhost"]) is None
    assert check_url_sync("http://no-existe.invalid/x", allow_hosts=()) is None  # the fetch reports dns_error


def test_check_host_resolves_and_refuses_loopback_names() -> None:
    with pytest.raises(UnsafeAddressError) as info:
        asyncio.run(check_host("localhost", 80, allow_hosts=()))
    assert info.value.reason == "loopback"
    assert "127.0.0.1" in asyncio.run(check_host("localhost", 80, allow_hosts=["localhost"]))
    assert asyncio.run(check_host("127.0.0.3", 80, allow_hosts=["127.0.0.3"])) == ["127.0.0.3"]
    with pytest.raises(OSError):
        asyncio.run(check_host("no-existe.invalid", 80, allow_hosts=()))
