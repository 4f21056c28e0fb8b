"""SSRF guard: address classification is pure (no network); end-to-end checks use only loopback and .invalid."""

from __future__ import annotations

import ipaddress

import pytest

from audit.config import HttpSettings
from audit.httppolicy import HttpPolicy
from audit.netguard import UnsafeAddressError, check_ip_literal, unsafe_reason


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
    ("scheme", "host", "reason"),
    [
        ("ftp", "datos.example", "scheme_ftp"),
        ("file", "", "scheme_file"),
        ("mailto", None, "scheme_mailto"),
        ("", "datos.example", "scheme_missing"),
        ("http", None, "malformed_url"),
        ("http", "127.0.0.1", "loopback"),
        ("https", "::ffff:192.168.0.1", "private"),
        ("http", "169.254.169.254", "link-local"),
        ("http", "localhost", None),  # names are judged when connecting (HttpPolicy.resolve)
        ("HTTPS", "datos.edomex.gob.mx", None),
    ],
)
def test_policy_precheck_reasons(scheme: str, host: str | None, reason: str | None) -> None:
    assert HttpPolicy(HttpSettings()).precheck(scheme, host) == reason


def test_policy_precheck_skips_allow_listed_literals() -> None:
    assert HttpPolicy.for_hosts(HttpSettings(), ["127.0.0.1"]).precheck("http", "127.0.0.1") is None


def test_policy_resolve_judges_names_and_honours_the_allow_list() -> None:
    with pytest.raises(UnsafeAddressError) as info:
        HttpPolicy(HttpSettings()).resolve("localhost", 80)
    assert info.value.reason == "loopback"
    allowed = HttpPolicy.for_hosts(HttpSettings(), ["LOCALHOST.", "127.0.0.3"])
    assert "127.0.0.1" in allowed.resolve("localhost", 80)
    assert allowed.resolve("127.0.0.3", 80) == ["127.0.0.3"]
    with pytest.raises(OSError):
        allowed.resolve("no-existe.invalid", 80)
