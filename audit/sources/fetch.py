"""One HTTP GET of a catalogue document (data.json, an RDF page) under the configured HTTP policy.

The same rules as the CKAN client (``audit.ckan``): a (connect, read) timeout, urllib3 retries on 408/429/5xx and
connection errors with exponential backoff and a capped ``Retry-After``, a streamed body with a byte cap, and
``audit.errors`` instead of ``requests`` exceptions.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from audit.ckan import CappedRetry
from audit.config import HttpSettings
from audit.errors import PortalResponseError, PortalUnreachable

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

    def __init__(self, http: HttpSettings) -> None:
        self.http = http
        retry = CappedRetry(total=http.retries, connect=http.retries, read=http.retries, status=http.retries,
                            status_forcelist=http.retry_statuses, backoff_factor=http.backoff_base_s,
                            backoff_max=http.retry_after_cap_s, respect_retry_after_header=True,
                            allowed_methods=None, raise_on_status=False)
        retry.retry_after_cap = http.retry_after_cap_s
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": http.user_agent, "Accept": ACCEPT})
        self.calls = 0

    def close(self) -> None:
        self.session.close()

    def get(self, url: str) -> Document:
        """The document at ``url`` (any status: callers decide what a 404 means)."""
        self.calls += 1
        timeout = (self.http.connect_timeout_s, self.http.read_timeout_s)
        try:
            with self.session.get(url, stream=True, timeout=timeout) as r:
                chunks: list[bytes] = []
                total = 0
                for chunk in r.iter_content(64 * 1024):
                    total += len(chunk)
                    if total > self.http.max_response_bytes:
                        raise PortalResponseError(
                            f"El catálogo {url} superó el límite de {self.http.max_response_bytes:,} bytes.",
                            hint="Aumente http.max_response_bytes en config.yaml.", portal=url)
                    chunks.append(chunk)
                return Document(r.url, r.status_code, r.headers.get("Content-Type", ""), b"".join(chunks))
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
