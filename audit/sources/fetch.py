"""One HTTP GET of a catalogue document (data.json, an RDF page) under the configured HTTP policy.

The same rules as the CKAN client (``audit.ckan``), from :class:`audit.httppolicy.HttpPolicy`: a (connect, read)
timeout, urllib3 retries on 408/429/5xx and connection errors with exponential backoff and a capped
``Retry-After``, a streamed body with a byte cap, the SSRF guard on every connection (the requested document's
own host is the operator's choice; a redirect elsewhere is judged), and ``audit.errors`` instead of ``requests``
exceptions.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

from audit.config import HttpSettings
from audit.errors import PortalResponseError, PortalUnreachable
from audit.httppolicy import GuardedHTTPAdapter, HttpPolicy, ResponseTooLarge
from audit.netguard import UnsafeAddressError, normalize_host

log = logging.getLogger(__name__)

#: what a DCAT client asks for: JSON first (data.json, JSON-LD), then the RDF serialisations
ACCEPT = ("application/json, application/ld+json;q=0.95, text/turtle;q=0.9, application/rdf+xml;q=0.9, "
          "application/n-triples;q=0.8, */*;q=0.1")


@dataclass(frozen=True)
class Document:
    url: str  # after redirects
    status: int
    content_type: str
    body: bytes


class DocumentFetcher:
    """GETs documents of one catalogue; one pooled session with the retry policy of ``http``."""

    def __init__(self, http: HttpSettings, *, allow_hosts: Collection[str] = ()) -> None:
        self.http = http
        self._hosts: set[str] = {normalize_host(h) for h in allow_hosts}
        self.session = requests.Session()
        self._mount()
        self.session.headers.update({"User-Agent": http.user_agent, "Accept": ACCEPT})
        self.calls = 0

    def _mount(self) -> None:
        old = self.session.adapters.get("https://")
        self.policy = HttpPolicy.for_hosts(self.http, self._hosts)
        adapter = GuardedHTTPAdapter(self.policy)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        if isinstance(old, GuardedHTTPAdapter):
            old.close()

    def _allow(self, url: str) -> None:
        """The host of a document asked for is allowed (a new one costs a new connection pool: rare)."""
        host = normalize_host(urlsplit(url).hostname or "")
        if host and host not in self._hosts:
            self._hosts.add(host)
            self._mount()

    def close(self) -> None:
        self.session.close()

    def get(self, url: str) -> Document:
        """The document at ``url`` (any status: callers decide what a 404 means)."""
        self.calls += 1
        self._allow(url)
        try:
            with self.session.get(url, stream=True, timeout=self.policy.timeouts[:2]) as r:
                body = self.policy.read_capped(r)
                return Document(r.url, r.status_code, r.headers.get("Content-Type", ""), body)
        except ResponseTooLarge as exc:
            raise PortalResponseError(
                f"El catálogo {url} superó el límite de {self.http.max_response_bytes:,} bytes.",
                hint="Aumente http.max_response_bytes en config.yaml.", portal=url) from exc
        except UnsafeAddressError as exc:
            raise PortalUnreachable(f"El catálogo {url} llevó a una dirección no permitida: {exc}",
                                    hint="Si ese host es legítimo, agréguelo a probe.allow_hosts en config.yaml.",
                                    portal=url) from exc
        except requests.exceptions.RetryError as exc:
            raise PortalUnreachable(
                f"El catálogo {url} siguió respondiendo con error tras {self.http.retries} reintentos.",
                hint="Intente más tarde o aumente http.retries en config.yaml.", portal=url) from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            if isinstance(exc, requests.exceptions.Timeout) or "timed out" in str(exc).lower():
                raise PortalUnreachable(
                    f"El catálogo {url} no respondió a tiempo (límite {self.http.read_timeout_s:g} s, "
                    f"{self.http.retries} reintentos).", hint="Aumente http.read_timeout_s o intente más tarde.",
                    portal=url) from exc
            raise PortalUnreachable(f"No se pudo conectar con el portal {url}.",
                                    hint="Verifique la URL (--portal) y la conexión de red.", portal=url) from exc
        except requests.exceptions.RequestException as exc:
            raise PortalUnreachable(f"Error de red con {url}: {exc}", portal=url) from exc
