"""A thin, safe CKAN Action API client on top of ckanapi's RemoteCKAN.

What ckanapi lacks and this adds: a timeout on every call, retries with exponential backoff on 408/429/5xx,
timeouts and connection errors (urllib3's Retry, honouring ``Retry-After`` up to a cap), a response-size cap, the
SSRF guard on every connection (a redirect away from the portal cannot reach the internal network), and one
exception hierarchy (``audit.errors``) instead of ckanapi/requests errors leaking out. Retries, caps and the guard
are :class:`audit.httppolicy.HttpPolicy`'s, shared with the prober and the content downloader.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

import ckanapi
import requests

from audit.config import HttpSettings
from audit.errors import NotCKANError, PortalResponseError, PortalUnreachable
from audit.httppolicy import GuardedHTTPAdapter, HttpPolicy, ResponseTooLarge
from audit.netguard import UnsafeAddressError

log = logging.getLogger(__name__)

#: actions that only read; sent as GET (cacheable, and some portals' firewalls block anonymous POST)
READ_ONLY_PREFIXES = ("status_show", "package_search", "package_show", "package_list", "organization_",
                      "group_", "license_list", "tag_list", "resource_show", "datastore_search")


class _CappedRemoteCKAN(ckanapi.RemoteCKAN):
    """RemoteCKAN that streams responses with a byte cap and remembers the last status and content type."""

    policy: HttpPolicy
    last_status: int | None = None
    last_content_type: str = ""

    def _read(self, r: requests.Response) -> tuple[int, str]:
        self.last_status = r.status_code
        self.last_content_type = r.headers.get("Content-Type", "")
        body = self.policy.read_capped(r)
        return r.status_code, body.decode(r.encoding or "utf-8", errors="replace")

    def _request_fn(self, url, data, headers, files, requests_kwargs):  # type: ignore[no-untyped-def]
        r = self.session.post(url, data=data, headers=headers, files=files, allow_redirects=False,
                              stream=True, **requests_kwargs)
        return self._read(r)

    def _request_fn_get(self, url, data_dict, headers, requests_kwargs):  # type: ignore[no-untyped-def]
        r = self.session.get(url, params=data_dict, headers=headers, stream=True, **requests_kwargs)
        return self._read(r)


class CKANClient:
    """Calls CKAN actions on one portal. Every call: timeout, bounded retries, size cap, mapped errors."""

    def __init__(self, url: str, http: HttpSettings, *, token: str | None = None,
                 allow_hosts: Collection[str] = ()) -> None:
        self.url = url.rstrip("/")
        self.http = http
        # the portal's own host is the operator's choice (it may be on an internal network); other hosts a
        # redirect leads to are judged like any third-party URL
        policy = HttpPolicy.for_hosts(http, [urlsplit(self.url).hostname or "", *allow_hosts])
        session = requests.Session()
        adapter = GuardedHTTPAdapter(policy, pool_maxsize=max(4, http.per_host_concurrency))
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._ckan = _CappedRemoteCKAN(self.url, apikey=token, user_agent=http.user_agent, session=session)
        self._ckan.policy = policy
        self._timeout = policy.timeouts[:2]  # requests: (connect, read)
        self.calls = 0

    def close(self) -> None:
        self._ckan.close()

    def __enter__(self) -> CKANClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, action: str, *, malformed_retries: int = 1, **params: Any) -> Any:
        """Call ``action`` with ``params``; return ``result`` or raise an ``audit.errors.PortalError``."""
        get = action.startswith(READ_ONLY_PREFIXES)
        for attempt in range(malformed_retries + 1):
            self.calls += 1
            started = time.monotonic()
            try:
                if get:
                    self._ckan.get_only = True
                    data = {k: _param(v) for k, v in params.items()}
                else:
                    self._ckan.get_only = False
                    data = params
                result = self._ckan.call_action(action, data, requests_kwargs={"timeout": self._timeout})
                log.debug("ckan action=%s params=%s ms=%.0f", action, params, (time.monotonic() - started) * 1000)
                return result
            except UnsafeAddressError as exc:
                raise PortalUnreachable(
                    f"El portal {self.url} llevó '{action}' a una dirección no permitida: {exc}",
                    hint="Si ese host es legítimo, agréguelo a probe.allow_hosts en config.yaml.",
                    portal=self.url, action=action,
                ) from exc
            except requests.exceptions.RetryError as exc:
                raise PortalUnreachable(
                    f"El portal {self.url} siguió respondiendo con error a '{action}' tras {self.http.retries} reintentos: {_reason(exc)}",
                    hint="Intente más tarde o aumente http.retries en config.yaml.",
                    portal=self.url, action=action,
                ) from exc
            except requests.exceptions.Timeout as exc:
                raise PortalUnreachable(
                    f"El portal {self.url} no respondió a tiempo a '{action}' "
                    f"(límite {self.http.read_timeout_s:g} s, {self.http.retries} reintentos).",
                    hint="Aumente http.read_timeout_s o intente más tarde.",
                    portal=self.url, action=action,
                ) from exc
            except requests.exceptions.ConnectionError as exc:
                if "timed out" in str(exc).lower():  # urllib3 wraps read timeouts after its retries
                    raise PortalUnreachable(
                        f"El portal {self.url} no respondió a tiempo a '{action}' "
                        f"(límite {self.http.read_timeout_s:g} s, {self.http.retries} reintentos).",
                        hint="Aumente http.read_timeout_s o intente más tarde.",
                        portal=self.url, action=action,
                    ) from exc
                raise PortalUnreachable(
                    f"No se pudo conectar con el portal {self.url}: {_reason(exc)}",
                    hint="Verifique la URL (--portal) y la conexión de red.",
                    portal=self.url, action=action,
                ) from exc
            except requests.exceptions.RequestException as exc:
                raise PortalUnreachable(f"Error de red con {self.url} en '{action}': {exc}", portal=self.url) from exc
            except ResponseTooLarge as exc:
                raise PortalResponseError(
                    f"La respuesta de '{action}' superó el límite de {self.http.max_response_bytes:,} bytes.",
                    hint="Reduzca crawl.page_size o aumente http.max_response_bytes.",
                    portal=self.url, action=action,
                ) from exc
            except ckanapi.NotFound as exc:
                raise PortalResponseError(f"'{action}' no encontró lo solicitado: {exc}", portal=self.url,
                                          action=action, not_found=True) from exc
            except ckanapi.NotAuthorized as exc:
                raise PortalResponseError(f"El portal negó el acceso a '{action}': {exc}",
                                          hint="Revise el token CKAN_API_TOKEN.", portal=self.url,
                                          action=action, not_authorized=True) from exc
            except (ckanapi.ServerIncompatibleError, ckanapi.CKANAPIError) as exc:
                status = self._ckan.last_status
                ctype = self._ckan.last_content_type
                if status == 200 and "json" in ctype and attempt < malformed_retries:
                    log.warning("malformed JSON from %s action=%s; retrying once", self.url, action)
                    continue  # a truncated body is usually transient
                raise PortalResponseError(_describe_bad_response(self.url, action, status, ctype, exc),
                                          portal=self.url, action=action, status=status) from exc
        raise AssertionError("unreachable")

    def identify(self) -> dict[str, Any]:
        """``status_show``: proves this is a CKAN Action API and returns site title and CKAN version."""
        try:
            info = self.call("status_show")
        except PortalResponseError as exc:
            raise NotCKANError(
                f"No es un portal CKAN: {self.url} (status_show no respondió como la API de CKAN: {exc.message})",
                hint="Indique la URL base del portal, p. ej. https://datos.edomex.gob.mx",
                portal=self.url,
            ) from exc
        if not isinstance(info, dict) or "ckan_version" not in info:
            raise NotCKANError(f"No es un portal CKAN: {self.url} (status_show sin ckan_version)", portal=self.url)
        return info


def _param(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return value


def _reason(exc: Exception) -> str:
    inner = exc.args[0] if exc.args else exc
    reason = getattr(inner, "reason", None)
    return str(reason or inner)


def _describe_bad_response(url: str, action: str, status: int | None, ctype: str, exc: Exception) -> str:
    if status is not None and status >= 500:
        kind = "una página HTML" if "html" in ctype else "un cuerpo no JSON" if "json" not in ctype else "un error"
        return f"El portal {url} respondió HTTP {status} con {kind} a '{action}'."
    if status == 200 and "json" in ctype:
        return f"El portal {url} devolvió JSON malformado a '{action}'."
    if "html" in ctype:
        return f"El portal {url} devolvió HTML (HTTP {status}) en lugar de JSON a '{action}'."
    return f"Respuesta inesperada de {url} a '{action}' (HTTP {status}): {str(exc)[:300]}"
