"""Configuration: one validated model for ``config.yaml``.

Every key has a type, a default and a help line (``Field(description=...)``); ``docs/configuration.md`` is
generated from these models and a test checks it is up to date. Secrets never live in the file: they are read
from the environment (``CKAN_API_TOKEN``, ``AUDIT_SMTP_PASSWORD``, ``AUDIT_ADMIN_PASSWORD``).

The model sits just above the rule registry: the ten characteristic ids and the validation of each rule's own
``rules:`` block come from :mod:`rules`, which never imports this module (an import-linter contract keeps it so).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from audit.errors import ConfigError
from audit.legal import LegalBasis
from rules import CHARACTERISTICS, validate_params

DEFAULT_CONFIG_PATH = Path("config.yaml")


class Section(BaseModel):
    """Base for every section: unknown keys are errors (a typo must not be silently ignored)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class HostOverride(Section):
    concurrency: int | None = Field(None, ge=1, description="Peticiones simultáneas a este host.")
    delay_s: float | None = Field(None, ge=0, description="Pausa entre peticiones a este host, en segundos.")


class HttpSettings(Section):
    user_agent: str = Field(
        "AuditorDatosAbiertos/0.1 (auditoria de datos abiertos; contacto: datos.abiertos@edomex.gob.mx)",
        description="User-Agent de todas las peticiones; debe incluir una dirección de contacto.",
    )
    connect_timeout_s: float = Field(10.0, gt=0, description="Tiempo máximo para establecer la conexión.")
    read_timeout_s: float = Field(30.0, gt=0, description="Tiempo máximo sin recibir datos.")
    total_timeout_s: float = Field(120.0, gt=0, description="Tiempo máximo de una petición completa.")
    retries: int = Field(3, ge=0, le=10, description="Reintentos ante 408/429/5xx y errores de conexión.")
    retry_statuses: list[int] = Field(
        [408, 429, 500, 502, 503, 504], description="Códigos HTTP que se reintentan."
    )
    backoff_base_s: float = Field(0.5, ge=0, description="Espera base del reintento exponencial (base × 2^n).")
    retry_after_cap_s: float = Field(60.0, ge=0, description="Máximo que se respeta de un Retry-After.")
    max_response_bytes: int = Field(
        200 * 1024 * 1024, gt=0, description="Tope de bytes de una respuesta de la API de CKAN."
    )
    concurrency: int = Field(32, ge=1, description="Peticiones simultáneas en total (sondeo de recursos).")
    per_host_concurrency: int = Field(4, ge=1, description="Peticiones simultáneas por host.")
    per_host_delay_s: float = Field(0.0, ge=0, description="Pausa entre peticiones a un mismo host.")
    host_overrides: dict[str, HostOverride] = Field(
        default_factory=dict, description="Ajustes por host (concurrencia, pausa)."
    )
    max_header_bytes: int = Field(
        16 * 1024, ge=1024, description="Tamaño máximo de una línea o campo de encabezado HTTP en las respuestas."
    )


class CrawlSettings(Section):
    page_size: int = Field(1000, ge=1, le=1000, description="Filas por página de package_search (máx. 1000).")
    sort: str = Field("metadata_created asc, id asc", description="Orden estable para paginar package_search.")
    include_private: bool = Field(False, description="Incluir conjuntos privados (requiere token).")
    batch_size: int = Field(200, ge=1, description="Conjuntos por transacción al guardar.")
    datastore_fields: bool = Field(
        True, description="Leer de la DataStore la definición de campos (diccionario) de los recursos que la usan.",
    )
    exclude_types: list[str] = Field(
        ["harvest", "showcase"],
        description="Tipos de paquete CKAN que no son conjuntos de datos (fuentes de cosecha, vitrinas) y no se evalúan.",
    )


class ProbeSettings(Section):
    sniff_bytes: int = Field(1024 * 1024, gt=0, description="Bytes que se leen para identificar el tipo real.")
    download_cap_bytes: int = Field(
        50 * 1024 * 1024, gt=0, description="Bytes máximos descargados cuando se valida el contenido."
    )
    max_redirects: int = Field(10, ge=0, description="Redirecciones que se siguen.")
    verify_tls: bool = Field(True, description="Verificar certificados TLS.")
    allow_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts permitidos aunque resuelvan a direcciones privadas/loopback (además del portal).",
    )
    conditional_requests: bool = Field(True, description="Usar If-None-Match/If-Modified-Since en corridas posteriores.")
    login_url_words: list[str] = Field(
        ["login", "signin", "sign-in", "iniciar-sesion", "iniciarsesion", "registro", "register", "sso", "auth", "acceso"],
        description="Palabras en la URL final que indican un muro de autenticación.",
    )
    payment_words: list[str] = Field(
        ["pago", "pagar", "checkout", "carrito", "tienda", "payment", "comprar"],
        description="Palabras que indican una página de pago.",
    )
    use_range: bool = Field(
        True, description="Pedir solo los primeros bytes (Range); igual se corta la lectura si el servidor lo ignora."
    )
    batch_size: int = Field(200, ge=1, description="Resultados de sondeo por transacción al guardar.")


class PersonalDataSettings(Section):
    """Alerts of likely personal data in published files (LGPDPPSO); shown for a person to decide."""

    enabled: bool = Field(True, description="Buscar posibles datos personales en los archivos tabulares.")
    personal_email_domains: list[str] = Field(
        ["gmail.com", "hotmail.com", "hotmail.com.mx", "outlook.com", "outlook.es", "live.com", "live.com.mx",
         "yahoo.com", "yahoo.com.mx", "icloud.com", "me.com", "aol.com", "prodigy.net.mx", "protonmail.com",
         "proton.me", "msn.com"],
        description="Dominios de correo de uso personal: un correo de estos dominios, fuera de una columna de "
        "contacto institucional, es un posible dato personal.",
    )
    column_words: list[str] = Field(
        ["nombre completo", "nombre y apellidos", "apellido paterno", "apellido materno", "domicilio particular",
         "direccion particular", "fecha de nacimiento", "lugar de nacimiento", "estado civil",
         "numero de seguridad social", "nss", "telefono particular", "celular particular", "correo personal",
         "clave de elector", "religion", "origen etnico", "preferencia sexual", "tipo de sangre"],
        description="Nombres de columna (sin acentos ni mayúsculas, palabras completas) que denotan un dato personal "
        "aunque sus valores no tengan un patrón verificable.",
    )
    phone_column_words: list[str] = Field(
        ["telefono", "tel", "celular", "movil", "whatsapp", "numero telefonico"],
        description="Palabras del nombre de una columna de teléfonos (se revisan sus valores de 10 dígitos).",
    )
    institutional_column_words: list[str] = Field(
        ["institucional", "oficina", "dependencia", "unidad", "contacto", "enlace", "conmutador", "atencion",
         "empresa", "establecimiento", "negocio"],
        description="Palabras del nombre de una columna de contacto institucional o de negocios: sus correos y "
        "teléfonos no se reportan (las CURP, RFC y claves de elector sí).",
    )


class ContentSettings(Section):
    enabled: bool = Field(True, description="Validar el contenido de los recursos tabulares.")
    max_rows: int = Field(200_000, gt=0, description="Filas máximas cargadas por recurso.")
    workers: int = Field(2, ge=1, description="Procesos para validar en paralelo.")
    suites_dir: str = Field("rules/suites", description="Carpeta de suites de expectativas por conjunto.")
    null_share_max: float = Field(0.5, ge=0, le=1, description="Proporción máxima de nulos por columna.")
    duplicate_share_max: float = Field(0.1, ge=0, le=1, description="Proporción máxima de filas duplicadas.")
    min_rows: int = Field(1, ge=0, description="Registros mínimos esperados.")
    validation_sample_rows: int = Field(
        5_000, gt=0,
        description="Filas (primeras y últimas) que revisa Great Expectations; conteos, nulos y filas de totales se miden sobre todo el archivo cargado.",
    )
    type_share_min: float = Field(
        0.8, gt=0, le=1, description="Proporción de valores numéricos/fecha a partir de la cual una columna se considera de ese tipo."
    )
    max_line_bytes: int = Field(
        1024 * 1024, gt=0, description="Longitud máxima de una línea de texto; una línea mayor se registra como archivo mal formado."
    )
    max_unzipped_bytes: int = Field(
        500 * 1024 * 1024, gt=0, description="Tamaño máximo descomprimido de un libro XLSX/ODS (defensa contra bombas zip)."
    )
    file_timeout_s: float = Field(
        120.0, gt=0, description="Tiempo máximo para analizar un archivo (un archivo hostil no detiene la etapa).",
    )
    dictionary_words: list[str] = Field(
        ["diccionario", "data dictionary", "catalogo de campos", "catálogo de campos"],
        description="Palabras en el nombre de un recurso que lo identifican como diccionario de datos.",
    )
    personal_data: PersonalDataSettings = Field(default_factory=lambda: PersonalDataSettings())


class RulesSettings(Section):
    """Vocabularies and thresholds of the ten rules; each rule validates its own block."""

    model_config = ConfigDict(extra="allow")


class ArchiveSettings(Section):
    """The evidence archive (audit/archive.py): the bytes every probe and content check received, for appeals."""

    enabled: bool = Field(
        True, description="Guardar una copia comprimida de lo que respondió cada recurso: el archivo que se validó, o "
        "los bytes que leyó el sondeo (los primeros probe.sniff_bytes de un PDF, una página, un ZIP…).",
    )
    dir: str | None = Field(None, description="Carpeta del archivo de evidencias (vacío: <output_dir>/evidencias).")
    max_file_bytes: int = Field(50 * 1024 * 1024, gt=0, description="Tamaño máximo de un archivo que se guarda.")
    max_total_bytes: int = Field(
        20 * 1024**3, gt=0,
        description="Tamaño máximo del archivo de evidencias en disco; al excederlo se borran primero los archivos "
        "de las corridas periódicas más antiguas.",
    )
    retention_years: float = Field(2.0, gt=0, description="Años que se conservan los archivos de corridas periódicas.")
    annual_retention_years: float = Field(
        10.0, gt=0, description="Años que se conservan los archivos de la corrida de una evaluación anual."
    )
    prune_interval_hours: float = Field(
        24.0, gt=0,
        description="Cada cuántas horas, como máximo, se revisa todo el archivo de evidencias para aplicar la "
        "retención (antes, solo si su tamaño excede archive.max_total_bytes).",
    )


class ScoringSettings(Section):
    weights: dict[str, float] = Field(
        default_factory=lambda: {c: 1.0 for c in CHARACTERISTICS},
        description="Peso de cada característica en la calificación del conjunto (por omisión 1 para cada una).",
    )

    @field_validator("weights")
    @classmethod
    def _one_weight_per_characteristic(cls, value: dict[str, float]) -> dict[str, float]:
        """Characteristics not listed weigh 1 (a rule added to the registry needs no config edit); a key that is
        not a characteristic is a typo that would silently weigh nothing."""
        unknown = sorted(set(value) - set(CHARACTERISTICS))
        if unknown:
            raise ValueError(f"características desconocidas: {', '.join(unknown)}; válidas: {', '.join(CHARACTERISTICS)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("los pesos no pueden ser negativos")
        return {c: float(value.get(c, 1.0)) for c in CHARACTERISTICS}


class IndicatorSettings(Section):
    commitments_file: str | None = Field(None, description="CSV de compromisos (organization,dataset,due_date).")
    reviews_file: str | None = Field(None, description="CSV de revisiones manuales.")
    cutoff_month_day: str = Field("12-31", pattern=r"^\d\d-\d\d$", description="Fecha de corte (MM-DD) del año evaluado.")
    published_requires: Literal["data_file", "reachable_resource", "listed"] = Field(
        "data_file",
        description="Qué hace «publicado» a un compromiso: data_file = al menos un archivo de datos descargable (no solo "
        "documentación ni una página web); reachable_resource = cualquier recurso que responda (incluida una página o "
        "la documentación); listed = basta que el conjunto público esté listado en el portal. Los informes dicen cuál "
        "se aplicó.",
    )


class EvaluatorSettings(Section):
    unit: str = Field(
        "Dirección General del Sistema Estatal de Informática (DGSEI), Secretaría de Finanzas",
        description="Unidad evaluadora: portada y pie de página de cada informe.",
    )
    name: str = Field("", description="Nombre de la persona responsable de la evaluación (firma el informe).")
    position: str = Field("", description="Cargo de la persona responsable.")
    oficio: str | None = Field(None, description="Número de oficio con que se entrega la evaluación (opcional).")


class ReportsSettings(Section):
    enabled: bool = Field(True, description="Generar informes HTML y PDF.")
    pdf: bool = Field(True, description="Generar también los PDF (PDF/A-3b, con sus calificaciones adjuntas).")
    evaluator: EvaluatorSettings = Field(default_factory=lambda: EvaluatorSettings())
    evaluating_unit: str | None = Field(
        None, description="Obsoleto: use reports.evaluator.unit (si se indica, se copia ahí).")
    workers: int = Field(2, ge=1, description="Procesos para generar informes en paralelo.")
    pdf_annex_max_datasets: int | None = Field(
        None,
        ge=0,
        description="Si el portal tiene más conjuntos, el PDF del portal omite el anexo por conjunto (queda completo "
        "en el HTML y en datasets.csv); limita la memoria de portales muy grandes. Vacío = sin límite.",
    )

    pdf_annex_chunk_datasets: int | None = Field(
        1000,
        ge=100,
        description="Con más conjuntos, el anexo del PDF del portal se escribe en varios PDF (portal-anexo-N.pdf) de "
        "este tamaño: el PDF de un anexo de 10,000 conjuntos de una sola vez necesita varios GB de memoria. Vacío = "
        "un solo PDF.",
    )

    @model_validator(mode="after")
    def _migrate_evaluating_unit(self) -> ReportsSettings:
        """The old ``reports.evaluating_unit`` still works: it fills ``evaluator.unit`` unless that is given."""
        if self.evaluating_unit and "unit" not in self.evaluator.model_fields_set:
            self.evaluator = self.evaluator.model_copy(update={"unit": self.evaluating_unit})
        return self

    @property
    def unit(self) -> str:
        return self.evaluator.unit


class ScheduleSettings(Section):
    periodic_cron: str = Field("30 2 * * mon", description="Cron de la auditoría periódica.")
    annual_cron: str = Field("0 6 15 1 *", description="Cron de la evaluación anual (año anterior).")
    misfire_grace_s: int = Field(6 * 3600, ge=1, description="Gracia para ejecutar una corrida perdida.")
    lock_ttl_s: int = Field(6 * 3600, ge=60, description="Vigencia del candado de auditoría en SQLite.")
    periodic_enabled: bool = Field(True, description="Programar la auditoría periódica.")
    annual_enabled: bool = Field(True, description="Programar la evaluación anual.")
    resume_on_start: bool = Field(True, description="Al arrancar el servicio, reanudar una corrida interrumpida.")


class PublishSettings(Section):
    organization: str | None = Field(None, description="Organización CKAN donde se publica la evaluación.")
    dataset_name_template: str = Field("evaluacion-datos-abiertos-{year}", description="Nombre del conjunto publicado.")
    title_template: str = Field(
        "Evaluación de datos abiertos {year}", description="Título del conjunto publicado ({year} = año evaluado)."
    )
    license_id: str = Field("cc-by-4.0", description="Licencia del conjunto publicado (id de CKAN).")
    timeout_s: float = Field(120.0, gt=0, description="Tiempo máximo de cada llamada de publicación (incluye subir archivos).")


class NotifySettings(Section):
    contacts_file: str | None = Field(None, description="CSV de enlaces (organization,name,email).")
    smtp_host: str = Field("127.0.0.1", description="Servidor SMTP.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Puerto SMTP.")
    smtp_starttls: bool = Field(True, description="Usar STARTTLS.")
    smtp_user: str | None = Field(None, description="Usuario SMTP (la contraseña va en AUDIT_SMTP_PASSWORD).")
    sender: str = Field("datos.abiertos@edomex.gob.mx", description="Remitente.")
    dry_run_dir: str | None = Field(None, description="Si se indica, los mensajes se escriben aquí en vez de enviarse.")
    smtp_timeout_s: float = Field(30.0, gt=0, description="Tiempo máximo de cada operación SMTP.")
    smtp_cafile: str | None = Field(
        None, description="Certificado de CA adicional (PEM) para verificar el servidor SMTP con STARTTLS."
    )
    retries: int = Field(3, ge=0, le=10, description="Reintentos de un envío fallido (errores temporales).")
    retry_delay_s: float = Field(5.0, ge=0, description="Espera base entre reintentos (se duplica en cada uno).")
    max_attachment_bytes: int = Field(
        20 * 1024 * 1024, gt=0, description="Tamaño máximo del PDF adjunto; si lo excede se omite y se avisa."
    )


class AlertsSettings(Section):
    enabled: bool = Field(True, description="Después de cada auditoría periódica, enviar a cada organización el resumen de cambios.")
    recipients: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Correos por organización (nombre CKAN → lista); se suman a los de notify.contacts_file.",
    )
    maintainer_fallback: bool = Field(
        False,
        description="Si una organización no tiene destinatarios configurados, escribir a los correos de "
        "responsable (maintainer_email) de sus conjuntos. Debe activarse expresamente.",
    )
    evaluators: list[str] = Field(default_factory=list, description="Correos de la unidad evaluadora: reciben el resumen del portal.")
    overdue_warning_days: int = Field(
        14, ge=1, description="Avisar de los conjuntos que dejarán de estar actualizados (oportunos) dentro de estos días.",
    )
    commitment_warning_days: int = Field(
        30, ge=1, description="Avisar de los compromisos que vencen dentro de estos días y aún no están publicados.",
    )
    consecutive_failures: int = Field(
        3, ge=1, le=20,
        description="Un recurso se reporta cuando falla en este número de auditorías seguidas (una falla aislada no es noticia).",
    )
    throttle_s: float = Field(1.0, ge=0, description="Pausa entre dos correos enviados.")
    max_items: int = Field(50, ge=1, description="Máximo de renglones por sección del resumen (el resto se resume en una línea).")
    dashboard_url: str | None = Field(
        None, description="URL pública del tablero, para los enlaces de los correos y del canal Atom "
        "(vacío: web.public_url).",
    )
    usage_max_calls: int = Field(
        5000, ge=0,
        description="Si el listado del portal no trae visitas, consultas package_show (include_tracking) como "
        "máximo para conocer el uso de cada conjunto (0 = no consultar).",
    )


class WebSettings(Section):
    host: str = Field("127.0.0.1", description="Dirección en la que escucha el tablero.")
    port: int = Field(8000, ge=1, le=65535, description="Puerto del tablero.")
    page_size: int = Field(50, ge=1, le=1000, description="Filas por página en las tablas.")
    uploads_dir: str = Field(
        "entradas",
        description="Carpeta donde el tablero guarda los archivos de compromisos y revisiones subidos por el "
        "administrador (se usan en la siguiente auditoría iniciada desde el tablero).",
    )
    page_cache_entries: int = Field(
        2000,
        ge=0,
        description="Páginas HTML de corridas terminadas que el tablero guarda en memoria (0 = sin caché); "
        "una corrida terminada no cambia, así que la página se sirve sin volver a consultar la base.",
    )
    threads: int = Field(
        4,
        ge=1,
        le=64,
        description="Hilos que atienden en paralelo las páginas que consultan la base; pocos hilos reparten "
        "mejor el procesador y bajan la latencia cuando hay muchos usuarios a la vez.",
    )
    workers: int = Field(
        1,
        ge=1,
        le=32,
        description="Procesos del tablero (uno por núcleo disponible aprovecha más el equipo; cada proceso "
        "tiene su propia caché).",
    )
    page_cache_mb: int = Field(
        64, ge=0, le=4096,
        description="Memoria máxima, en MB, de la caché de páginas (además del límite de páginas).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Direcciones (o redes, p. ej. 127.0.0.1 o 10.0.0.0/8) del proxy inverso (nginx) cuyos "
        "encabezados X-Forwarded-For, X-Forwarded-Proto y X-Forwarded-Host se creen; sin ninguna, se ignoran.",
    )
    public_url: str | None = Field(
        None,
        description="Dirección pública del tablero (p. ej. https://tablero.finanzas.edomex.gob.mx); se usa en "
        "enlaces absolutos (insignias) y para validar el origen de los formularios.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Sitios (p. ej. https://datos.edomex.gob.mx) que pueden leer la API /api/v1 desde el "
        "navegador (CORS, sólo lectura).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item.strip(), strict=False)
            except ValueError as exc:
                raise ValueError(f"«{item}» no es una dirección IP ni una red (p. ej. 127.0.0.1 o 10.0.0.0/8)") from exc
        return [v.strip() for v in value]

    @field_validator("public_url", "cors_origins")
    @classmethod
    def _origins(cls, value: Any) -> Any:
        items = value if isinstance(value, list) else ([] if value is None else [value])
        for item in items:
            parts = urlsplit(item)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"«{item}» no es una dirección http(s) completa (p. ej. https://datos.edomex.gob.mx)")
        if isinstance(value, list):
            return [v.rstrip("/") for v in value]
        return value.rstrip("/") if value else value


class PortalEntry(Section):
    """One portal of a fleet (``portals:``); what it leaves empty comes from the top-level settings."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
                      description="Clave corta del portal (minúsculas, dígitos, - o _): carpeta OUT/<clave>/ y "
                      "dirección /portales/<clave>/ del tablero.")
    url: str = Field(description="URL del portal CKAN, de su data.json o de su catálogo RDF DCAT.")
    title: str | None = Field(None, description="Nombre del portal en los informes y la comparación.")
    type: Literal["auto", "ckan", "dcat"] = Field("auto", description="Tipo de catálogo (como portal_type).")
    commitments_file: str | None = Field(None, description="CSV de compromisos de este portal.")
    reviews_file: str | None = Field(None, description="CSV de revisiones manuales de este portal.")
    reports: ReportsSettings | None = Field(
        None, description="Ajustes de informes de este portal (si se omite, los de reports).")

    @field_validator("url")
    @classmethod
    def _base(cls, value: str) -> str:
        return portal_base_url(value)


class LimitsSettings(Section):
    """What an unattended service must survive: stops, full disks, oversized input files and reports."""

    stop_grace_s: float = Field(
        5.0, gt=0, le=120,
        description="Tras SIGTERM/SIGINT, segundos que se espera a que la etapa termine su lote antes de abandonarlo.")
    out_min_free_mb: float = Field(
        100.0, ge=0, description="Espacio libre mínimo (MB) en la carpeta de resultados para empezar una auditoría.")
    input_max_mb: float = Field(
        20.0, gt=0, description="Tamaño máximo (MB) de un archivo de entrada: compromisos, revisiones, enlaces.")
    input_max_rows: int = Field(
        100_000, ge=1, description="Filas máximas de un archivo de entrada (compromisos, revisiones, enlaces).")
    suite_max_mb: float = Field(2.0, gt=0, description="Tamaño máximo (MB) de un archivo de suite de expectativas.")
    report_max_mb: float = Field(
        200.0, gt=0, description="Tamaño máximo (MB) del HTML de un informe; uno mayor falla y la corrida termina con "
        "código distinto de cero.")
    report_worker_memory_mb: float | None = Field(
        4096.0, ge=256, description="Memoria virtual máxima (MB) de cada proceso que genera los PDF (RLIMIT_AS, "
        "Linux); un informe que necesite más falla con un mensaje claro y los demás se generan. null: sin límite.")


#: what users paste after the portal's base: its API endpoint or a page of the catalogue
_CKAN_PAGE_SUFFIX = re.compile(r"/(?:api(?:/\d+)?(?:/action(?:/.*)?)?|(?:dataset|organization|group)(?:/.*)?)$")


def portal_base_url(url: str) -> str:
    """The portal's base URL from what a user may paste: "https://datos.x.gob.mx/api/3/action",
    ".../dataset/algo", with spaces or a trailing slash. Raises ValueError (a Spanish message) when it is not
    an http(s) URL."""
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"«{text}» no es una URL http(s); escriba la dirección completa, p. ej. https://datos.edomex.gob.mx")
    path = _CKAN_PAGE_SUFFIX.sub("", parts.path.rstrip("/"))
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


class ExecutionSettings(Section):
    backend: Literal["local", "distributed"] = Field(
        "local", description="Dónde se sondean y validan los recursos: local (procesos de esta máquina) o "
        "distributed (trabajadores Celery en una o varias máquinas; requiere PostgreSQL y Redis; ver "
        "docs/architecture.md).")
    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Broker Redis de las tareas (modo distributed).")
    worker_wait_s: float = Field(
        60.0, gt=0, description="Cuánto se espera a que responda algún trabajador antes de detener la corrida "
        "con un error.")
    visibility_timeout_s: int = Field(
        3600, ge=5, description="Segundos tras los que la tarea de un trabajador perdido (máquina caída) se entrega "
        "a otro; debe exceder la tarea más larga (si no, una tarea lenta se ejecutaría dos veces).")
    probe_batch_size: int = Field(
        100, ge=1, description="Recursos de un mismo host por tarea de sondeo (las tareas de un host van en cadena).")
    max_attempts: int = Field(
        3, ge=1, le=10, description="Entregas de un mismo archivo antes de registrarlo como 'worker_crashed' (un "
        "archivo que tumba al trabajador no se reintenta sin fin).")


class AuditConfig(Section):
    portal_url: str | None = Field(
        None, description="URL base del portal CKAN a auditar (se aceptan también la de su API o de una página "
        "/dataset del portal: se recorta a la base).")
    portal_type: Literal["auto", "ckan", "dcat"] = Field(
        "auto", description="Tipo de catálogo: auto (se detecta: API de CKAN, data.json o catálogo RDF DCAT), ckan "
        "o dcat (DCAT-US data.json o DCAT/DCAT-AP en Turtle, RDF/XML o JSON-LD).")
    portal_title: str | None = Field(None, description="Nombre del portal en los informes (si no, el del catálogo).")
    portals: list[PortalEntry] = Field(
        default_factory=list,
        description="Varios portales en una misma base (audit --all los audita uno tras otro y escribe la "
        "comparación): lista de {name, url, title, type, commitments_file, reviews_file, reports}.")
    database_url: str = Field("sqlite:///audit.db", description="Base de datos (SQLite o postgresql+psycopg://…).")
    output_dir: str = Field("salida", description="Carpeta de resultados (OUT/<año>/…).")
    timezone: str = Field("America/Mexico_City", description="Zona horaria de fechas e informes.")
    language: str = Field("es_MX", description="Idioma y formato de los informes.")
    http: HttpSettings = Field(default_factory=lambda: HttpSettings())
    crawl: CrawlSettings = Field(default_factory=lambda: CrawlSettings())
    probe: ProbeSettings = Field(default_factory=lambda: ProbeSettings())
    content: ContentSettings = Field(default_factory=lambda: ContentSettings())
    rules: RulesSettings = Field(default_factory=lambda: RulesSettings())
    scoring: ScoringSettings = Field(default_factory=lambda: ScoringSettings())
    indicator: IndicatorSettings = Field(default_factory=lambda: IndicatorSettings())
    reports: ReportsSettings = Field(default_factory=lambda: ReportsSettings())
    schedule: ScheduleSettings = Field(default_factory=lambda: ScheduleSettings())
    publish: PublishSettings = Field(default_factory=lambda: PublishSettings())
    notify: NotifySettings = Field(default_factory=lambda: NotifySettings())
    web: WebSettings = Field(default_factory=lambda: WebSettings())
    archive: ArchiveSettings = Field(default_factory=lambda: ArchiveSettings())
    alerts: AlertsSettings = Field(default_factory=lambda: AlertsSettings())
    execution: ExecutionSettings = Field(default_factory=lambda: ExecutionSettings())
    legal_basis: LegalBasis = Field(
        default_factory=lambda: LegalBasis(),
        description="Fundamento legal citado en reglas, informes, tablero y API (por omisión, LGTAIP 2025, art. 3, "
        "fr. VIII); ver docs/reglas.md.",
    )
    limits: LimitsSettings = Field(default_factory=lambda: LimitsSettings())

    @field_validator("portal_url")
    @classmethod
    def _portal_base(cls, value: str | None) -> str | None:
        return portal_base_url(value) if value and value.strip() else None

    @field_validator("portals")
    @classmethod
    def _unique_portals(cls, value: list[PortalEntry]) -> list[PortalEntry]:
        for attr in ("name", "url"):
            seen = [getattr(p, attr) for p in value]
            dup = sorted({x for x in seen if seen.count(x) > 1})
            if dup:
                raise ValueError(f"portales repetidos ({attr}): {', '.join(dup)}")
        return value

    def for_portal(self, entry: PortalEntry) -> AuditConfig:
        """This configuration as it applies to one portal of ``portals``."""
        indicator = self.indicator.model_copy(update={
            "commitments_file": entry.commitments_file or self.indicator.commitments_file,
            "reviews_file": entry.reviews_file or self.indicator.reviews_file})
        return self.model_copy(update={
            "portal_url": entry.url, "portal_title": entry.title, "portal_type": entry.type,
            "indicator": indicator, "reports": entry.reports or self.reports,
            "output_dir": str(Path(self.output_dir) / entry.name)})

    @model_validator(mode="after")
    def _distributed_needs_postgres(self) -> AuditConfig:
        if self.execution.backend == "distributed" and self.database_url.strip().lower().startswith("sqlite"):
            raise ValueError("execution.backend: distributed requiere PostgreSQL (database_url: "
                             "postgresql+psycopg://…): los trabajadores de otras máquinas escriben en la misma base "
                             "de datos y SQLite es un archivo local")
        return self

    @property
    def ckan_api_token(self) -> str | None:
        return os.environ.get("CKAN_API_TOKEN") or None

    def digest(self) -> str:
        """Stable short hash of the effective configuration, stored with every run."""
        raw = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


#: the command-line flags that set top-level keys (an error in one of them is about the flag, not the file)
FLAG_KEYS = {"portal_url": "--portal", "database_url": "--db", "output_dir": "--out"}


def _format_validation_error(exc: ValidationError, source: str, flags: set[str] | None = None) -> str:
    errors = exc.errors()
    from_flags = {str(e["loc"][0]) for e in errors if e["loc"] and str(e["loc"][0]) in (flags or set())}
    if from_flags and len(from_flags) == len(errors):
        lines = ["Opción inválida en la línea de comandos:"]
    else:
        lines = [f"Configuración inválida en {source}:"]
    for err in errors:
        key = ".".join(str(p) for p in err["loc"]) or "(raíz)"
        name = f"{FLAG_KEYS[key]} ({key})" if key in from_flags else f"'{key}'"
        if err["type"] == "extra_forbidden":
            lines.append(f"  - clave desconocida '{key}': revise la ortografía (ver docs/configuration.md)")
        else:
            got = err.get("input")
            shown = repr(got) if not isinstance(got, dict) else "{…}"
            lines.append(f"  - {name}: {_message_es(err)} (valor recibido: {shown})")
    return "\n".join(lines)


def _message_es(err: Any) -> str:
    """pydantic's message in Spanish (the common types; anything else keeps pydantic's words)."""
    ctx = err.get("ctx") or {}
    kind = err["type"]
    fixed = {
        "float_parsing": "debe ser un número", "float_type": "debe ser un número",
        "int_parsing": "debe ser un número entero", "int_type": "debe ser un número entero",
        "int_from_float": "debe ser un número entero (sin decimales)",
        "bool_parsing": "debe ser verdadero o falso (true/false)", "bool_type": "debe ser verdadero o falso (true/false)",
        "string_type": "debe ser texto", "list_type": "debe ser una lista",
        "dict_type": "debe ser un mapa de claves", "model_type": "debe ser un mapa de claves",
        "missing": "falta: es obligatoria", "none_required": "debe quedar vacía",
    }
    if kind in fixed:
        return fixed[kind]
    bounds = {"greater_than": "mayor que", "greater_than_equal": "mayor o igual que", "less_than": "menor que",
              "less_than_equal": "menor o igual que"}
    if kind in bounds:
        limit = next(iter(ctx.values()), "?")
        return f"debe ser {bounds[kind]} {limit}"
    if kind == "literal_error":
        return f"debe ser uno de: {ctx.get('expected', '?')}"
    if kind == "string_pattern_mismatch":
        return f"no tiene el formato esperado (patrón {ctx.get('pattern', '?')})"
    if kind == "value_error":
        return str(ctx.get("error") or err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> AuditConfig:
    """Load and validate the config. ``path=None`` uses ./config.yaml if present, else defaults.

    ``overrides`` (from CLI flags) win over the file; nested dicts are merged.
    """
    data: dict[str, Any] = {}
    source = "valores por defecto"
    if path is not None or DEFAULT_CONFIG_PATH.exists():
        p = Path(path) if path is not None else DEFAULT_CONFIG_PATH
        source = str(p)
        if not p.exists():
            raise ConfigError(
                f"No existe el archivo de configuración: {p}",
                hint="Indique una ruta válida con --config o copie config.yaml del repositorio.",
            )
        try:
            loaded = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (línea {mark.line + 1}, columna {mark.column + 1})" if mark else ""
            raise ConfigError(f"{p} no es YAML válido{where}: {getattr(exc, 'problem', exc)}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"No se puede leer {p}: {exc}") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p} debe contener un mapa de claves (se encontró {type(loaded).__name__}).")
        data = loaded
    if overrides:
        data = _deep_merge(data, {k: v for k, v in overrides.items() if v is not None})
    try:
        cfg = AuditConfig.model_validate(data)
    except ValidationError as exc:
        flags = {k for k, v in (overrides or {}).items() if v is not None and k in FLAG_KEYS}
        raise ConfigError(_format_validation_error(exc, source, flags)) from exc
    _validate_rules_section(cfg, source)
    return cfg


def _validate_rules_section(cfg: AuditConfig, source: str) -> None:
    """Each rule validates its own parameters at load time (not when it runs)."""
    validate_params(cfg.rules.model_dump(), source)
    quoted = set(cfg.legal_basis.characteristics)
    missing, unknown = [c for c in CHARACTERISTICS if c not in quoted], sorted(quoted - set(CHARACTERISTICS))
    if missing or unknown:
        problems = ([f"  - falta el inciso de: {', '.join(missing)}"] if missing else []) + (
            [f"  - característica desconocida: {', '.join(unknown)}"] if unknown else [])
        raise ConfigError(
            f"Configuración inválida en {source} (sección legal_basis.characteristics):\n" + "\n".join(problems),
            hint="Cada característica registrada necesita su inciso y su texto: " + ", ".join(CHARACTERISTICS),
            source=source,
        )
