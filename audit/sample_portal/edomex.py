"""The default catalogue: a mirror of datos.edomex.gob.mx with planted defects (see ``expected.py``).

Dates are relative to ``now`` (the portal's start time), so "updated 12 days ago" stays true whatever the calendar
says; everything else is deterministic (ids derived from names, fixed seeds for file contents).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.sample_portal import files as F
from audit.sample_portal.catalog import Catalog, ServedFile, ckan_time, make_organization

ORGANIZATIONS: tuple[tuple[str, str, str], ...] = (
    ("secretaria-de-finanzas", "Secretaría de Finanzas", "Planeación, programación, presupuesto y recaudación."),
    ("secretaria-del-medio-ambiente", "Secretaría del Medio Ambiente", "Política ambiental del Estado de México."),
    ("secretaria-de-cultura-y-turismo", "Secretaría de Cultura y Turismo", "Promoción cultural y turística."),
    ("secretaria-de-salud", "Secretaría de Salud", "Servicios de salud pública del Estado de México."),
    ("secretaria-de-educacion", "Secretaría de Educación, Ciencia, Tecnología e Innovación",
     "Educación básica, media superior y superior."),
    ("secretaria-de-movilidad", "Secretaría de Movilidad", "Transporte público, licencias y vialidad."),
    ("secretaria-de-seguridad", "Secretaría de Seguridad", "Seguridad pública estatal."),
    ("secretaria-del-trabajo", "Secretaría del Trabajo", "Empleo, capacitación y justicia laboral."),
    ("secretaria-de-desarrollo-economico", "Secretaría de Desarrollo Económico", "Fomento económico e inversión."),
    ("secretaria-del-campo", "Secretaría del Campo", "Desarrollo agropecuario y rural."),
    ("secretaria-de-obra-publica", "Secretaría de Obra Pública", "Obra pública e infraestructura estatal."),
    ("secretaria-de-desarrollo-urbano-e-infraestructura", "Secretaría de Desarrollo Urbano e Infraestructura",
     "Ordenamiento territorial y vivienda."),
    ("secretaria-de-la-contraloria", "Secretaría de la Contraloría", "Control interno y fiscalización."),
    ("secretaria-de-justicia-y-derechos-humanos", "Secretaría de Justicia y Derechos Humanos",
     "Procuración de justicia, registro civil y defensoría."),
    ("secretaria-de-las-mujeres", "Secretaría de las Mujeres", "Igualdad sustantiva y prevención de la violencia."),
    ("igecem", "Instituto de Información e Investigación Geográfica, Estadística y Catastral del Estado de México "
     "(IGECEM)", "Información estadística, geográfica y catastral."),
    ("secretaria-general-de-gobierno", "Secretaría General de Gobierno", "Política interior y Periódico Oficial."),
    ("secretaria-del-agua", "Secretaría del Agua", "Agua potable, drenaje y saneamiento."),
)

#: CKAN's ``spatial`` extra is a GeoJSON geometry: the state's bounding box
EDOMEX_BBOX = ('{"type": "Polygon", "coordinates": [[[-100.61, 18.37], [-98.6, 18.37], [-98.6, 20.29], '
               '[-100.61, 20.29], [-100.61, 18.37]]]}')

#: organization with no datasets (must appear in reports with zero)
EMPTY_ORGANIZATION = "secretaria-de-las-mujeres"

GROUPS: tuple[tuple[str, str], ...] = (
    ("salud", "Salud"), ("educacion", "Educación"), ("medio-ambiente", "Medio ambiente"), ("turismo", "Turismo"),
    ("vialidades", "Vialidades"), ("seguridad", "Seguridad"), ("finanzas-publicas", "Finanzas públicas"),
    ("cultura", "Cultura"), ("empleo", "Empleo"), ("economia", "Economía"), ("campo", "Campo"),
    ("obra-publica", "Obra pública"), ("desarrollo-urbano", "Desarrollo urbano"), ("transparencia", "Transparencia"),
    ("justicia", "Justicia"), ("igualdad-de-genero", "Igualdad de género"), ("geografia", "Geografía"),
    ("poblacion", "Población"), ("gobierno", "Gobierno"), ("agua", "Agua"), ("movilidad", "Movilidad"),
    ("bienestar-social", "Bienestar social"),
)

LICENSES: tuple[dict[str, Any], ...] = tuple(
    {"id": i, "title": t, "url": u, "od_conformance": od, "osd_conformance": "not reviewed", "status": "active",
     "maintainer": "", "family": "", "domain_content": True, "domain_data": dd, "domain_software": False,
     "is_generic": gen}
    for i, t, u, od, dd, gen in (
        ("cc-by-4.0", "Creative Commons Atribución 4.0 Internacional (CC BY 4.0)",
         "https://creativecommons.org/licenses/by/4.0/", "approved", True, False),
        ("cc-by", "Creative Commons Attribution", "http://www.opendefinition.org/licenses/cc-by", "approved", False,
         False),
        ("cc-by-sa-4.0", "Creative Commons Atribución-CompartirIgual 4.0 (CC BY-SA 4.0)",
         "https://creativecommons.org/licenses/by-sa/4.0/", "approved", True, False),
        ("cc-by-sa", "Creative Commons Attribution Share-Alike", "http://www.opendefinition.org/licenses/cc-by-sa",
         "approved", False, False),
        ("cc-zero", "Creative Commons CCZero", "http://www.opendefinition.org/licenses/cc-zero", "approved", True,
         False),
        ("cc-nc", "Creative Commons Non-Commercial (Any)", "http://creativecommons.org/licenses/by-nc/2.0/",
         "not reviewed", False, False),
        ("cc-by-nd-4.0", "Creative Commons Atribución-SinDerivadas 4.0 (CC BY-ND 4.0)",
         "https://creativecommons.org/licenses/by-nd/4.0/", "not reviewed", False, False),
        ("odc-by", "Open Data Commons Attribution License", "http://www.opendefinition.org/licenses/odc-by",
         "approved", True, False),
        ("odc-odbl", "Open Data Commons Open Database License (ODbL)",
         "http://www.opendefinition.org/licenses/odc-odbl", "approved", True, False),
        ("odc-pddl", "Open Data Commons Public Domain Dedication and License (PDDL)",
         "http://www.opendefinition.org/licenses/odc-pddl", "approved", True, False),
        ("mx-terminos-libre-uso", "Términos de Libre Uso MX", "https://datos.gob.mx/libreusomx", "approved", True,
         False),
        ("other-open", "Other (Open)", "", "approved", True, True),
        ("other-pd", "Other (Public Domain)", "", "approved", True, True),
        ("other-at", "Other (Attribution)", "", "approved", True, True),
        ("other-nc", "Other (Non-Commercial)", "", "not reviewed", False, True),
        ("other-closed", "Other (Not Open)", "", "not reviewed", False, True),
        ("notspecified", "License not specified", "", "not reviewed", False, True),
    )
)

GOOD_LICENSE = "cc-by-4.0"


# --------------------------------------------------------------------------------------------------- builder
@dataclass
class Res:
    """How to build one resource. ``kind`` picks the served file or the fault endpoint."""

    kind: str
    name: str
    fmt: str
    description: str = ""
    topic: str = "ingresos"
    filename: str = ""
    opts: dict[str, Any] = field(default_factory=dict)


def dictionary(topic: str, declares: tuple[tuple[str, str], ...] = (),
               columns: tuple[tuple[str, str], ...] | None = None) -> Res:
    """The dataset's data dictionary: the topic's columns, or ``columns`` (name, type) for a file of another shape;
    ``declares`` adds (column, type) rows the data file does not have."""
    return Res("dictionary", "Diccionario de datos", "CSV",
               "Diccionario de datos: nombre, descripción y tipo de cada campo del recurso.", topic,
               "diccionario-de-datos.csv", {"declares": declares, "columns": columns})


class _Builder:
    def __init__(self, base_url: str, now: datetime) -> None:
        self.base = base_url.rstrip("/")
        self.now = now
        self.catalog = Catalog(
            base_url=self.base,
            site_title="Portal de Datos Abiertos del Estado de México",
            organizations=[make_organization(n, t, d, now - timedelta(days=2000 - i))
                           for i, (n, t, d) in enumerate(ORGANIZATIONS)],
            groups=[make_organization(n, t, f"Conjuntos de datos sobre {t.lower()}.", now - timedelta(days=1900 - i),
                                      kind="group") for i, (n, t) in enumerate(GROUPS)],
            licenses=[dict(lic) for lic in LICENSES],
            now=now,
        )
        self.probe_outcomes: dict[str, str] = {}
        self.count = 0

    # ---------------------------------------------------------------- files and fault endpoints
    def _serve(self, path: str, content_type: str, factory: Callable[[], bytes], modified: datetime | None,
               outcome: str | None = "ok", *, stamp_now: bool = False, regenerate: bool = False) -> str:
        url = self.catalog.add_file(path, ServedFile(content_type, factory, last_modified=None if regenerate else modified,
                                                     filename=path.rsplit("/", 1)[-1], stamp_now=stamp_now,
                                                     regenerate=regenerate))
        if outcome is not None:  # None: a file reached only through a fault endpoint (redirect chain, slow)
            self.probe_outcomes[path] = outcome
        return url

    def resource_url(self, ds: str, r: Res, modified: datetime) -> str:
        fname = r.filename or f"{r.topic.replace('_', '-')}.csv"
        path = f"/files/{ds}/{fname}"
        seed = f"{ds}/{fname}"
        k = r.kind
        if k == "csv":
            return self._serve(path, "text/csv; charset=" + r.opts.get("encoding", "utf-8"),
                               lambda: F.csv_bytes(r.topic, r.opts.get("rows", 300), seed=seed, **r.opts.get("csv", {}),
                                                   encoding=r.opts.get("encoding", "utf-8")), modified,
                               stamp_now=r.opts.get("stamp_now", False), regenerate=r.opts.get("regenerate", False))
        if k == "dictionary":
            return self._serve(path, "text/csv; charset=utf-8",
                               lambda: F.dictionary_csv_bytes(r.topic, r.opts.get("declares", ()),
                                                               r.opts.get("columns")), modified)
        if k == "summary":
            return self._serve(path, "text/csv; charset=utf-8", F.summary_csv_bytes, modified)
        if k == "json":
            return self._serve(path, "application/json", lambda: F.json_records_bytes(r.topic, seed=seed), modified)
        if k == "geojson":
            return self._serve(path, "application/geo+json", lambda: F.geojson_bytes(r.topic, seed=seed), modified)
        if k == "xlsx":
            ctype = r.opts.get("content_type",
                               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
            return self._serve(path, ctype, lambda: F.xlsx_bytes(r.topic, 200, seed), modified)
        if k == "xls":
            return self._serve(path, "application/vnd.ms-excel", F.xls_bytes, modified)
        if k == "pdf":
            ctype = r.opts.get("content_type", "application/pdf")
            return self._serve(path, ctype, lambda: F.pdf_bytes(r.name, (r.description,)), modified)
        if k == "docx":
            return self._serve(path, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                               lambda: F.docx_bytes(r.name, (r.description,)), modified)
        if k == "png":
            return self._serve(path, "image/png", lambda: F.png_bytes(seed=seed), modified)
        if k == "redirect-chain":
            self._serve(path, "text/csv; charset=utf-8", lambda: F.csv_bytes(r.topic, 300, seed=seed), modified,
                        None)
            fault = f"/faults/redirect-chain/3{path}"
            self.probe_outcomes[fault] = "ok"
            return self.base + fault
        if k == "slow":
            self._serve(path, "text/csv; charset=utf-8", lambda: F.csv_bytes(r.topic, 300, seed=seed), modified,
                        None)
            fault = f"/faults/slow{path}"
            self.probe_outcomes[fault] = "ok"
            return self.base + fault
        if k == "external":  # a URL on another host or scheme (DNS error, ftp://, empty)
            url = r.opts["url"]
            self.probe_outcomes[url] = r.opts["outcome"]
            return url
        # plain fault endpoints: /faults/<kind>/<dataset>/<filename>
        outcome = FAULT_OUTCOMES[k]
        fault = f"/faults/{k}/{ds}/{fname}"
        self.probe_outcomes[fault] = outcome
        return self.base + fault

    # ---------------------------------------------------------------- datasets
    def dataset(self, name: str, org: str, title: str, description: str, resources: list[Res], *,
                groups: tuple[str, ...] = (), tags: tuple[str, ...] = (), age_days: float = 12,
                freq: tuple[str, str] | None = ("frequency", "R/P1M"), temporal: tuple[str, str] | None = None,
                spatial: tuple[str, str] | None = ("cobertura_geografica", "Estado de México"),
                license_id: str = GOOD_LICENSE, contact: bool = True, extras: tuple[tuple[str, str], ...] = (),
                top_level: dict[str, Any] | None = None, meta_age_days: float | None = None,
                notes: str | None = None) -> None:
        self.count += 1
        data_modified = self.now - timedelta(days=age_days)
        created = self.now - timedelta(days=1500) + timedelta(hours=7 * self.count)
        if created > data_modified:
            created = data_modified - timedelta(days=30, hours=self.count)
        org_title = dict((n, t) for n, t, _ in ORGANIZATIONS)[org]
        if notes is None:
            notes = (f"{description} Información generada y publicada por la {org_title} del Gobierno del Estado de "
                     "México; cada registro corresponde a una observación individual con su municipio y fecha.")
        # real portals spread coverage over many keys (CKAN core, DCAT, scheming, Spanish): rotate through them
        y = self.now.year
        temporal = temporal or (
            ("temporal", f"{y - 3}-01-01/{y}-12-31"), ("temporal_coverage", f"{y - 3}/{y}"),
            ("cobertura_temporal", f"enero {y - 3} - diciembre {y}"), ("periodo", f"{y - 2}-{y}"))[self.count % 4]
        if spatial == ("cobertura_geografica", "Estado de México"):
            spatial = (("cobertura_geografica", "Estado de México"), ("spatial_coverage", "Estado de México, 125 "
                        "municipios"), ("cobertura_espacial", "Estatal"), ("spatial", EDOMEX_BBOX))[self.count % 4]
        extra_list = []
        if freq:
            extra_list.append({"key": freq[0], "value": freq[1]})
        if temporal[0]:
            extra_list.append({"key": temporal[0], "value": temporal[1]})
        if spatial:
            extra_list.append({"key": spatial[0], "value": spatial[1]})
        extra_list += [{"key": k, "value": v} for k, v in extras]
        res_dicts = []
        for r in resources:
            url = self.resource_url(name, r, data_modified)
            res_dicts.append({
                "name": r.name,
                "description": r.description,
                "format": r.fmt,
                "url": url,
                "url_type": None,
                "last_modified": ckan_time(data_modified),
                "created": ckan_time(created + timedelta(hours=1)),
                "mimetype": None,
                "size": None,
            })
        meta_modified = self.now - timedelta(days=meta_age_days) if meta_age_days is not None else data_modified
        short = org.replace("secretaria-de-", "").replace("secretaria-del-", "").replace("secretaria-", "")
        pkg: dict[str, Any] = {
            "name": name,
            "title": title,
            "notes": notes,
            "owner_org": org,
            "license_id": license_id,
            "maintainer": "Unidad de Transparencia" if contact else "",
            "maintainer_email": f"transparencia.{short[:20].strip('-')}@edomex.gob.mx" if contact else "",
            "author": org_title if contact else "",
            "author_email": "",
            "metadata_created": ckan_time(created),
            "metadata_modified": ckan_time(max(meta_modified, created)),
            "groups": [{"name": g} for g in groups],
            "tags": [{"name": t} for t in tags],
            "extras": extra_list,
            "resources": res_dicts,
            "url": "",
            "version": "",
        }
        if top_level:
            pkg.update(top_level)
        self.catalog.add_dataset(pkg)


#: probe outcome of each fault kind served under /faults/<kind>/... (the audit.outcomes.Outcome vocabulary)
FAULT_OUTCOMES: dict[str, str] = {
    "not-found": "not_found",
    "gone": "not_found",
    "server-error": "server_error",
    "unauthorized": "auth_required",
    "forbidden": "client_error",
    "forbidden-login": "auth_required",
    "login-redirect": "auth_required",
    "payment-required": "payment_required",
    "landing-page": "landing_page",
    "empty": "empty",
}


def build_edomex_catalog(base_url: str, now: datetime | None = None) -> Catalog:
    """Build the 18-organization, 22-group, 69-dataset catalogue whose files are served under ``base_url``."""
    b = _Builder(base_url, now or datetime.now(UTC))
    _populate(b)
    b.catalog.probe_outcomes = b.probe_outcomes  # type: ignore[attr-defined]
    return b.catalog


def csv(name: str, desc: str, topic: str, fmt: str = "CSV", filename: str = "", **opts: Any) -> Res:
    return Res("csv", name, fmt, desc, topic, filename or f"{topic.replace('_', '-')}.csv", opts)


def res(kind: str, name: str, fmt: str, desc: str, topic: str = "ingresos", filename: str = "", **opts: Any) -> Res:
    return Res(kind, name, fmt, desc, topic, filename or f"{topic.replace('_', '-')}-{kind}", opts)


def _populate(b: _Builder) -> None:  # noqa: PLR0915 - one catalogue, read top to bottom
    D = b.dataset
    INV = "http://datos.edomex.invalid"

    # ------------------------------------------------------------ Secretaría de Finanzas (scores well)
    org = "secretaria-de-finanzas"
    D("ingresos-estatales-mensuales", org, "Ingresos estatales mensuales",
      "Ingresos propios del Estado de México por concepto y municipio de recaudación.",
      [csv("Ingresos estatales 2022-2025", "Registros de ingresos por concepto, municipio y fecha.", "ingresos"),
       dictionary("ingresos")],
      groups=("finanzas-publicas",), tags=("ingresos", "recaudación", "finanzas"), freq=("frequency", "R/P1M"))
    D("presupuesto-de-egresos", org, "Presupuesto de egresos del Gobierno del Estado de México",
      "Asignaciones del presupuesto de egresos por municipio y concepto de gasto.",
      [res("xlsx", "Presupuesto de egresos (Excel)", "XLSX", "Asignaciones presupuestales por concepto.", "obras",
           "presupuesto-egresos.xlsx"),
       csv("Presupuesto de egresos (CSV)", "Asignaciones presupuestales por concepto y municipio.", "obras",
           " csv"), dictionary("obras")],
      groups=("finanzas-publicas", "transparencia"), tags=("presupuesto", "egresos"),
      freq=("accrualPeriodicity", "R/P1Y"), age_days=120)
    D("deuda-publica-estatal", org, "Deuda pública estatal",
      "Registros de obligaciones financieras del Estado con fecha, monto y municipio beneficiario.",
      [res("json", "Obligaciones financieras (JSON)", "JSON", "Registros de deuda pública en formato JSON.",
           "ingresos", "deuda-publica.json"), dictionary("ingresos")],
      groups=("finanzas-publicas",), tags=("deuda pública",), freq=("periodicidad", "trimestral"), age_days=30)
    D("participaciones-federales-a-municipios", org, "Participaciones federales a municipios",
      "Participaciones y aportaciones federales entregadas a cada municipio mexiquense.",
      [csv("Participaciones por municipio", "Montos entregados por municipio y concepto (separado por punto y coma, "
           "codificación Windows-1252).", "ingresos", "Csv", "participaciones.csv", encoding="cp1252",
           csv={"delimiter": ";"}), dictionary("ingresos")],
      groups=("finanzas-publicas",), tags=("participaciones", "municipios"), freq=("periodicidad", "mensual"),
      age_days=15)
    D("costos-de-tramites-estatales", org, "Costos de trámites estatales",
      "Catálogo de trámites estatales con el monto vigente en pesos de cada uno, las tarifas por tipo de servicio y "
      "sus costos actualizados.",
      [csv("Catálogo de costos de trámites", "Trámites con su costo en pesos por municipio de atención.", "ingresos",
           filename="costos-tramites.csv"), dictionary("ingresos")],
      groups=("finanzas-publicas", "gobierno"), tags=("costos", "tarifas", "trámites"),
      freq=("frequency", "R/P1Y"), age_days=60)

    # ------------------------------------------------------------ Secretaría del Medio Ambiente
    org = "secretaria-del-medio-ambiente"
    D("calidad-del-aire-zmvt", org, "Calidad del aire en la Zona Metropolitana del Valle de Toluca",
      "Mediciones de contaminantes criterio (PM10, PM2.5, ozono) por estación de monitoreo.",
      [csv("Mediciones de calidad del aire", "Mediciones por estación, fecha y contaminante.", "calidad_aire"),
       dictionary("calidad_aire")],
      groups=("medio-ambiente", "salud"), tags=("calidad del aire", "contaminación"), freq=("frecuencia", "semanal"),
      age_days=2)
    D("areas-naturales-protegidas", org, "Áreas naturales protegidas",
      "Ubicación y características de las áreas naturales protegidas de jurisdicción estatal.",
      [res("geojson", "Áreas naturales protegidas (GeoJSON)", "GeoJSON", "Puntos de las áreas protegidas.",
           "turismo", "areas-protegidas.geojson"), dictionary("turismo")],
      groups=("medio-ambiente", "geografia"), tags=("áreas protegidas", "biodiversidad"),
      freq=("accrualPeriodicity", "R/P1Y"), age_days=90)
    D("centros-de-verificacion-vehicular", org, "Centros de verificación vehicular",
      "Centros autorizados para la verificación de emisiones vehiculares con su municipio y número de líneas.",
      [res("xlsx", "Centros de verificación", "XLSX", "Padrón de centros de verificación en Excel (descarga directa).",
           "transporte", "descarga"), dictionary("transporte")],
      groups=("medio-ambiente", "movilidad"), tags=("verificación vehicular",), freq=("periodicidad", "semestral"),
      age_days=40)
    D("residuos-solidos-municipales", org, "Generación de residuos sólidos municipales",
      "Toneladas de residuos sólidos urbanos generadas por municipio y fecha de medición.",
      [csv("Residuos sólidos por municipio", "Registros de generación de residuos.", "obras", filename="residuos.csv",
           stamp_now=True),
       dictionary("obras")],
      groups=("medio-ambiente",), tags=("residuos", "basura"), freq=("frequency", "R/P1M"), age_days=3 * 365)

    # ------------------------------------------------------------ Secretaría de Cultura y Turismo
    org = "secretaria-de-cultura-y-turismo"
    D("museos-del-estado", org, "Museos del Estado de México",
      "Museos estatales con su municipio, categoría, capacidad y fecha de registro.",
      [csv("Directorio de museos", "Museos estatales con ubicación y categoría.", "turismo", filename="museos.csv"),
       dictionary("turismo")],
      groups=("cultura", "turismo"), tags=("museos", "cultura"), freq=("frequency", "R/P6M"), age_days=50)
    D("afluencia-pueblos-magicos", org, "Afluencia turística en Pueblos Mágicos",
      "Visitantes registrados por establecimiento de hospedaje en los Pueblos Mágicos del Estado.",
      [csv("Afluencia turística", "Registros mensuales de visitantes por establecimiento.", "turismo",
           filename="afluencia.csv"), dictionary("turismo")],
      groups=("turismo",), tags=("pueblos mágicos", "turismo"), freq=("periodicidad", "mensual"), age_days=50)
    D("ocupacion-hotelera", org, "Ocupación hotelera",
      "Cuartos disponibles y ocupados por establecimiento de hospedaje y municipio.",
      [csv("Ocupación hotelera", "Establecimientos de hospedaje y su ocupación (con filas de título).", "turismo",
           filename="ocupacion-hotelera.csv",
           csv={"title_rows": ("GOBIERNO DEL ESTADO DE MÉXICO", "Secretaría de Cultura y Turismo",
                               "Ocupación hotelera por establecimiento")}),
       dictionary("turismo")],
      groups=("turismo",), tags=("hoteles", "ocupación"), freq=("frequency", "R/P1M"), age_days=10)
    D("festivales-culturales", org, "Festivales culturales",
      "Eventos y festivales culturales organizados por el Estado, con sede, municipio y fecha.",
      [csv("Festivales culturales", "Eventos culturales con sede y fecha.", "turismo", filename="festivales.csv"),
       dictionary("turismo")],
      groups=("cultura",), tags=("festivales", "eventos"), freq=("periodicidad", "eventual"), age_days=3 * 365)
    D("catalogo-de-artesanias", org, "Catálogo de artesanías mexiquenses",
      "Catálogo ilustrado de artesanías por municipio de origen, publicado como documento.",
      [res("pdf", "Catálogo de artesanías (PDF)", "PDF", "Documento con el catálogo ilustrado de artesanías.",
           "turismo", "catalogo-artesanias.pdf")],
      groups=("cultura",), tags=("artesanías",), freq=("accrualPeriodicity", "R/P1Y"), age_days=100)

    # ------------------------------------------------------------ Secretaría de Salud
    org = "secretaria-de-salud"
    D("unidades-medicas", org, "Unidades médicas del Instituto de Salud del Estado de México",
      "Unidades médicas con su clave CLUES, tipología, municipio y número de camas.",
      [csv("Unidades médicas", "Unidades médicas por CLUES y municipio.", "unidades_salud",
           filename="unidades-medicas.csv"), dictionary("unidades_salud")],
      groups=("salud",), tags=("salud", "clues", "hospitales"), freq=("frequency", "R/P3M"), age_days=20)
    D("defunciones-resumen-anual", org, "Defunciones generales: resumen anual",
      "Total estatal de defunciones por año y tasa por cada cien mil habitantes, sin desagregación municipal.",
      [res("summary", "Defunciones por año", "CSV", "Totales anuales de defunciones en el Estado.", "ingresos",
           "defunciones-resumen.csv"),
       dictionary("ingresos", columns=(("anio", "texto"), ("total_defunciones", "numérico"),
                                       ("tasa_por_100mil", "numérico")))],
      groups=("salud", "poblacion"), tags=("defunciones", "mortalidad"), freq=("accrualPeriodicity", "R/P1Y"),
      age_days=100)
    D("casos-de-dengue", org, "Casos confirmados de dengue",
      "Casos de dengue confirmados por municipio y fecha de inicio de síntomas, con una fila de total al final.",
      [csv("Casos de dengue", "Casos confirmados por municipio y fecha.", "unidades_salud", filename="dengue.csv",
           csv={"total_row": True}), dictionary("unidades_salud")],
      groups=("salud",), tags=("dengue", "epidemiología"), freq=("frequency", "R/P1M"), age_days=8)
    D("vacunacion-por-municipio", org, "Dosis de vacunas aplicadas por municipio",
      "Dosis aplicadas por municipio y fecha, tomadas del sistema federal de información en salud.",
      [csv("Dosis aplicadas", "Dosis aplicadas por municipio y fecha.", "unidades_salud", filename="vacunacion.csv"),
       dictionary("unidades_salud")],
      groups=("salud",), tags=("vacunación",), freq=("frequency", "R/P1M"), age_days=10,
      extras=(("fuente", "Dirección General de Información en Salud (DGIS), Secretaría de Salud federal"),))
    D("registro-sanitario-de-establecimientos", org, "Padrón sanitario de establecimientos",
      "Establecimientos con control sanitario estatal; la descarga se ofrece en la ventanilla electrónica.",
      [res("payment-required", "Padrón sanitario", "CSV", "Padrón de establecimientos con control sanitario.",
           "unidades_salud", "padron-sanitario.csv")],
      groups=("salud",), tags=("establecimientos", "cofepris"), freq=("frequency", "R/P1M"), age_days=12)

    # ------------------------------------------------------------ Secretaría de Educación
    org = "secretaria-de-educacion"
    D("escuelas-de-educacion-basica", org, "Escuelas de educación básica",
      "Escuelas de educación básica con clave de centro de trabajo, nivel, municipio, alumnos y docentes.",
      [csv("Escuelas (CSV)", "Escuelas por clave de centro de trabajo.", "escuelas", filename="escuelas.csv"),
       res("json", "Escuelas (JSON)", "JSON", "Las mismas escuelas en formato JSON.", "escuelas", "escuelas.json"),
       dictionary("escuelas")],
      groups=("educacion",), tags=("escuelas", "educación básica"), freq=("frecuencia", "anual"), age_days=150)
    D("matricula-escolar", org, "Matrícula escolar por plantel",
      "Alumnos inscritos por plantel, nivel educativo y municipio en el ciclo escolar vigente.",
      [res("xlsx", "Matrícula escolar", "xlsx", "Alumnos inscritos por plantel.", "escuelas", "matricula.xlsx"),
       dictionary("escuelas")],
      groups=("educacion",), tags=("matrícula",), freq=("accrualPeriodicity", "R/P1Y"), age_days=200)
    D("becas-otorgadas", org, "Becas otorgadas",
      "Becas otorgadas a estudiantes por municipio, nivel educativo y fecha de asignación.",
      [res("login-redirect", "Becas otorgadas", "CSV", "Beneficiarios de becas por municipio.", "escuelas",
           "becas.csv"), dictionary("escuelas")],
      groups=("educacion", "bienestar-social"), tags=("becas",), freq=("frequency", "R/P1M"), age_days=12)
    # ------------------------------------------------------------ Secretaría de Movilidad (scores badly)
    org = "secretaria-de-movilidad"
    D("rutas-de-transporte-publico", org, "Rutas de transporte público",
      "Rutas de transporte público concesionado con origen, destino y número de unidades.",
      [res("landing-page", "Rutas de transporte", "CSV", "Rutas concesionadas por municipio.", "transporte",
           "rutas.csv")],
      groups=("movilidad", "vialidades"), tags=("transporte público", "rutas"), freq=("frequency", "R/P3M"),
      age_days=30)
    D("licencias-de-conducir", org, "Licencias de conducir expedidas",
      "Licencias de conducir expedidas por tipo, municipio de expedición y fecha.",
      [res("unauthorized", "Licencias expedidas", "CSV", "Licencias por tipo y municipio.", "transporte",
           "licencias.csv")],
      groups=("movilidad",), tags=("licencias",), freq=("frequency", "R/P1M"), age_days=10)
    D("concesiones-de-transporte", org, "Concesiones de transporte público",
      "Concesiones vigentes de transporte público por modalidad y municipio; recursos pendientes de carga.",
      [], groups=("movilidad",), tags=("concesiones",), freq=("frequency", "R/P1Y"), age_days=60)
    D("tarifas-de-transporte-publico", org, "Tarifas del transporte público",
      "Tarifas autorizadas del pasaje por ruta y modalidad; el costo del pasaje mínimo y los incrementos aprobados.",
      [csv("Tarifas por ruta", "Tarifa en pesos por ruta y modalidad.", "transporte", filename="tarifas.csv"),
       dictionary("transporte")],
      groups=("movilidad",), tags=("tarifas", "transporte"), freq=("accrualPeriodicity", "R/P1Y"), age_days=80)
    D("infracciones-de-transito", org, "Infracciones de tránsito",
      "Infracciones de tránsito levantadas por municipio, tipo de falta y fecha.",
      [csv("Infracciones", "Infracciones por municipio y fecha.", "incidencia", filename="infracciones.csv"),
       dictionary("incidencia")],
      groups=("vialidades", "seguridad"), tags=("infracciones", "tránsito"), freq=("frequency", "R/P1M"),
      age_days=2 * 365 + 30, meta_age_days=3, license_id="notspecified")
    D("aforos-vehiculares", org, "Aforos vehiculares en carreteras estatales",
      "Conteos de vehículos por punto de aforo, carretera y fecha.",
      [res("external", "Aforos (servidor estatal)", "CSV", "Conteos vehiculares por punto de aforo.",
           url=f"{INV}/movilidad/aforos.csv", outcome="dns_error"),
       res("external", "Aforos (FTP)", "CSV", "Réplica en el servidor FTP institucional.",
           url="ftp://ftp.edomex.invalid/movilidad/aforos.csv", outcome="unsupported_scheme")],
      groups=("vialidades",), tags=("aforos",), freq=("frequency", "R/P1M"), age_days=15)

    # ------------------------------------------------------------ Secretaría de Seguridad (scores badly)
    org = "secretaria-de-seguridad"
    D("incidencia-delictiva", org, "Incidencia delictiva",
      "Carpetas de investigación por delito, municipio, colonia y fecha del hecho.",
      [csv("Incidencia delictiva (público)", "Carpetas de investigación por municipio y fecha.", "incidencia",
           filename="incidencia.csv"),
       res("forbidden-login", "Incidencia delictiva detallada", "CSV", "Detalle por colonia y hora.", "incidencia",
           "incidencia-detalle.csv")],
      groups=("seguridad",), tags=("delitos", "incidencia"), freq=("frequency", "R/P1M"), age_days=10)
    D("camaras-de-videovigilancia", org, "Cámaras de videovigilancia",
      "Ubicación de las cámaras del sistema estatal de videovigilancia por municipio.",
      [res("pdf", "Cámaras de videovigilancia", "CSV", "Listado de cámaras por municipio.", "incidencia",
           "camaras.csv", content_type="text/csv")],
      groups=("seguridad",), tags=("videovigilancia", "c5"), freq=("accrualPeriodicity", "R/P1Y"), age_days=100,
      license_id="other-closed")
    D("denuncias-por-municipio", org, "Denuncias por municipio",
      "Denuncias recibidas por municipio, tipo de delito y fecha de presentación.",
      [csv("Denuncias", "Denuncias por municipio y fecha.", "incidencia", filename="denuncias.csv"),
       dictionary("incidencia")],
      groups=("seguridad", "justicia"), tags=("denuncias",), freq=("frequency", "R/P1M"), age_days=12,
      license_id="")
    D("personas-desaparecidas", org, "Reportes de personas desaparecidas",
      "Reportes de personas desaparecidas y no localizadas por municipio y fecha del reporte.",
      [res("server-error", "Reportes de personas desaparecidas", "CSV", "Reportes por municipio.", "incidencia",
           "desaparecidas.csv"),
       res("forbidden", "Reportes de personas desaparecidas (histórico)", "CSV", "Reportes de años anteriores.",
           "incidencia", "desaparecidas-historico.csv")],
      groups=("seguridad",), tags=("personas desaparecidas",), freq=("frequency", "R/P1M"), age_days=12)
    D("estado-de-fuerza-policial", org, "Estado de fuerza policial",
      "Elementos policiales por municipio y corporación. La copia certificada se entrega previo pago de derechos "
      "conforme al Código Financiero del Estado de México.",
      [csv("Elementos policiales", "Elementos por corporación y municipio.", "incidencia", filename="fuerza.csv"),
       dictionary("incidencia")],
      groups=("seguridad",), tags=("policía",), freq=("accrualPeriodicity", "R/P1Y"), age_days=100,
      extras=(("costo", "$1,250.00 MXN por consulta"),))

    # ------------------------------------------------------------ Secretaría del Trabajo
    org = "secretaria-del-trabajo"
    D("empleo-formal", org, "Empleo formal",
      "Puestos de trabajo formales por sector, sexo, edad y municipio del centro de trabajo.",
      [csv("Empleo formal", "Registros de empleo formal por municipio.", "empleo", filename="empleo.csv"),
       dictionary("empleo")],
      groups=("empleo", "economia"), tags=("empleo", "trabajo"), freq=("update_frequency", "monthly"), age_days=14)
    D("vacantes-de-empleo", org, "Vacantes de la bolsa de trabajo estatal",
      "Vacantes publicadas en la bolsa de trabajo estatal por sector, municipio y fecha.",
      [res("json", "Vacantes (JSON)", "json", "Vacantes con sector y municipio.", "empleo", "vacantes.json"),
       dictionary("empleo")],
      groups=("empleo",), tags=("vacantes", "bolsa de trabajo"), freq=("frequency", "R/P0.5M"), age_days=5)
    D("conflictos-laborales", org, "Conflictos laborales",
      "Demandas laborales recibidas por el Tribunal Laboral por municipio, sector y fecha.",
      [csv("Conflictos laborales", "Demandas laborales por municipio.", "empleo", filename="conflictos.csv"),
       dictionary("empleo")],
      groups=("empleo", "justicia"), tags=("conflictos laborales",), freq=("frequency", "R/P3M"), age_days=30,
      license_id="cc-nc")
    D("capacitacion-para-el-trabajo", org, "Cursos de capacitación para el trabajo",
      "Cursos impartidos por los institutos de capacitación, con municipio, sexo y edad de participantes.",
      [csv("Cursos 2024-2025", "Participantes por curso y municipio.", "empleo", filename="cursos-recientes.csv"),
       res("not-found", "Cursos 2019-2023", "CSV", "Participantes de periodos anteriores.", "empleo",
           "cursos-historico.csv"),
       dictionary("empleo")],
      groups=("empleo", "educacion"), tags=("capacitación",), freq=("frequency", "R/P3M"), age_days=30)

    # ------------------------------------------------------------ Secretaría de Desarrollo Económico
    org = "secretaria-de-desarrollo-economico"
    D("unidades-economicas", org, "Unidades económicas",
      "Unidades económicas registradas con folio, giro, municipio, fecha y número de empleados.",
      [res("xls", "Unidades económicas", ".XLS", "Unidades económicas en formato Excel 97-2003.", "empleo",
           "unidades-economicas.xls"),
       dictionary("empleo", columns=(("folio", "texto"), ("fecha_registro", "fecha"), ("cve_mun", "texto"),
                                     ("municipio", "texto"), ("giro", "texto"), ("empleados", "numérico")))],
      groups=("economia",), tags=("unidades económicas", "negocios"), freq=("frequency", "R/P6M"), age_days=40)
    D("parques-industriales", org, "Parques industriales",
      "Parques industriales con municipio, superficie, empresas instaladas y fecha de registro.",
      [res("xls", "Parques industriales (Excel 97)", "XLS", "Versión en Excel 97-2003.", "empleo",
           "parques-industriales.xls"),
       csv("Parques industriales (CSV)", "Versión en texto separado por comas.", "empleo",
           filename="parques-industriales.csv"), dictionary("empleo")],
      groups=("economia",), tags=("industria",), freq=("frequency", "R/P1Y"), age_days=120)
    D("inversion-extranjera-directa", org, "Inversión extranjera directa",
      "Flujos de inversión extranjera directa por sector y municipio, reportados por la autoridad federal.",
      [csv("Inversión extranjera", "Flujos trimestrales por sector.", "empleo", filename="ied.csv"),
       dictionary("empleo")],
      groups=("economia",), tags=("inversión",), freq=("periodicidad", "trimestral"), age_days=30,
      extras=(("fuente", "Secretaría de Economía, Gobierno de México"),))
    D("apoyos-a-mipymes", org, "Apoyos a micro, pequeñas y medianas empresas",
      "Apoyos económicos otorgados a MiPyMEs por municipio, giro y fecha de entrega.",
      [csv("Apoyos a MiPyMEs", "Apoyos por municipio y giro.", "empleo", filename="apoyos-mipymes.csv"),
       dictionary("empleo")],
      groups=("economia", "bienestar-social"), tags=("mipymes", "apoyos"), freq=("frequency", "R/P3M"),
      age_days=30, license_id="odc-odbl")

    # ------------------------------------------------------------ Secretaría del Campo
    org = "secretaria-del-campo"
    D("produccion-agricola", org, "Producción agrícola por municipio",
      "Superficie sembrada y producción por cultivo, ciclo agrícola y municipio.",
      [csv("Producción agrícola", "Producción por cultivo y municipio (codificación Latin-1).",
           "produccion_agricola", filename="produccion-agricola.csv", encoding="latin-1"),
       dictionary("produccion_agricola")],
      groups=("campo",), tags=("agricultura", "cultivos"), freq=("frequency", "R/P1Y"), age_days=150)
    D("precios-de-granos", org, "Precios de granos en centros de acopio",
      "Precios de compra de granos por centro de acopio, municipio y fecha.",
      [csv("Precios de granos", "Precios por centro de acopio.", "produccion_agricola", filename="granos.csv"),
       dictionary("produccion_agricola")],
      groups=("campo", "economia"), tags=("granos", "precios"), freq=("frequency", "R/P1M"), age_days=10,
      extras=(("costo", "350.00"),))
    D("padron-de-productores", org, "Padrón de productores agropecuarios",
      "Productores agropecuarios registrados por municipio, cultivo principal y superficie.",
      [csv("Padrón de productores", "Productores por municipio.", "produccion_agricola",
           filename="productores.csv"), dictionary("produccion_agricola")],
      groups=(), tags=(), temporal=("", ""), spatial=None, freq=("frequency", "R/P6M"), age_days=40)
    D("apoyos-al-campo", org, "Apoyos al campo",
      "Apoyos entregados a productores por programa, municipio y fecha de entrega.",
      [res("empty", "Apoyos al campo", "CSV", "Apoyos por programa y municipio.", "produccion_agricola",
           "apoyos-campo.csv"), dictionary("produccion_agricola")],
      groups=("campo", "bienestar-social"), tags=("apoyos",), freq=("frequency", "R/P3M"), age_days=30)

    # ------------------------------------------------------------ Secretaría de Obra Pública (scores badly)
    org = "secretaria-de-obra-publica"
    D("costos-unitarios-de-obra", org, "Costos unitarios de obra pública",
      "Tabulador de costos unitarios de materiales y mano de obra usado para presupuestar la obra pública estatal; "
      "precios de referencia por concepto.",
      [csv("Costos unitarios", "Costos unitarios por concepto de obra.", "obras", filename="costos-unitarios.csv"),
       dictionary("obras")],
      groups=("obra-publica",), tags=("costos unitarios", "precios"), freq=("frequency", "R/P1Y"), age_days=100)
    D("obras-en-proceso", org, "Obras en proceso",
      "Obras públicas en proceso con contrato, municipio, monto y avance, publicadas como documento de texto.",
      [res("docx", "Obras en proceso", "DOCX", "Documento con el listado de obras.", "obras", "obras-en-proceso.docx")],
      groups=("obra-publica",), tags=("obras",), freq=("frequency", "R/P1M"), age_days=10)
    D("licitaciones-de-obra", org, "Licitaciones de obra pública",
      "Procedimientos de licitación de obra pública con número de contrato, municipio y fecha.",
      [res("gone", "Licitaciones 2024", "CSV", "Procedimientos de licitación.", "obras", "licitaciones-2024.csv"),
       res("png", "Mapa de licitaciones", "PNG", "Mapa con la ubicación de las obras licitadas.", "obras",
           "mapa-licitaciones.png")],
      groups=("obra-publica", "transparencia"), tags=("licitaciones",), freq=("frequency", "R/P1M"), age_days=10)
    D("mantenimiento-carretero", org, "Mantenimiento carretero",
      "Tramos carreteros con mantenimiento.",
      [csv("Tramos", "", "obras", "", filename="tramos.csv")],
      groups=(), tags=(), freq=None, temporal=("", ""), spatial=None, contact=False, age_days=30,
      notes="Tramos carreteros con mantenimiento.")

    # ------------------------------------------------------------ Secretaría de Desarrollo Urbano e Infraestructura
    org = "secretaria-de-desarrollo-urbano-e-infraestructura"
    D("uso-de-suelo", org, "Uso de suelo por predio",
      "Uso de suelo autorizado por predio con municipio, clave catastral y fecha de autorización.",
      [res("geojson", "Uso de suelo (GeoJSON)", "geojson", "Predios con uso de suelo.", "obras", "uso-suelo.geojson"),
       dictionary("obras")],
      groups=("desarrollo-urbano", "geografia"), tags=("uso de suelo",), freq=("frequency", "R/P1Y"), age_days=200)
    D("asentamientos-irregulares", org, "Asentamientos irregulares",
      "Mapa de asentamientos humanos irregulares identificados en el territorio estatal.",
      [res("png", "Mapa de asentamientos irregulares", "PNG", "Imagen del mapa estatal.", "obras",
           "asentamientos.png")],
      groups=("desarrollo-urbano",), tags=("asentamientos",), freq=("frequency", "R/P1Y"), age_days=100)
    D("vivienda-social", org, "Acciones de vivienda social",
      "Acciones de vivienda social por programa, municipio y fecha de entrega.",
      [csv("Vivienda social", "Acciones por municipio.", "obras", filename="vivienda.csv", regenerate=True),
       dictionary("obras")],
      groups=("desarrollo-urbano", "bienestar-social"), tags=("vivienda",), freq=("accrualPeriodicity", "R/P1Y"),
      age_days=3 * 365)
    D("licencias-de-construccion", org, "Licencias de construcción",
      "Licencias de construcción emitidas por municipio, tipo de obra y fecha de emisión.",
      [csv("Licencias de construcción", "Licencias por municipio.", "obras", filename="licencias-construccion.csv"),
       dictionary("obras")],
      groups=("desarrollo-urbano",), tags=("construcción",), freq=None, age_days=2 * 365)

    # ------------------------------------------------------------ Secretaría de la Contraloría
    org = "secretaria-de-la-contraloria"
    D("declaraciones-patrimoniales", org, "Declaraciones patrimoniales públicas",
      "Versiones públicas de las declaraciones patrimoniales de servidores públicos por dependencia y fecha.",
      [csv("Declaraciones", "Declaraciones por dependencia.", "empleo", filename="declaraciones.csv"),
       dictionary("empleo")],
      groups=("transparencia",), tags=("declaraciones",), freq=("frequency", "R/P1Y"), age_days=100,
      license_id="other-open")
    D("sanciones-a-servidores-publicos", org, "Sanciones a servidores públicos",
      "Sanciones administrativas firmes a servidores públicos por dependencia, tipo y fecha de resolución.",
      [csv("Sanciones", "Sanciones por dependencia y fecha.", "empleo", filename="sanciones.csv"),
       dictionary("empleo", declares=(("numero_expediente", "texto"), ("monto_sancion", "numérico")))],
      groups=("transparencia", "gobierno"), tags=("sanciones", "anticorrupción"), freq=("frequency", "R/P3M"),
      age_days=20)
    D("auditorias-realizadas", org, "Auditorías realizadas",
      "Auditorías realizadas a dependencias estatales con número, municipio, fecha y monto observado.",
      [res("redirect-chain", "Auditorías (CSV)", "CSV", "Auditorías por dependencia.", "obras",
           "auditorias.csv"),
       res("slow", "Auditorías de años anteriores", "CSV", "Auditorías de periodos anteriores.", "obras",
           "auditorias-anteriores.csv"),
       dictionary("obras")],
      groups=("transparencia",), tags=("auditorías",), freq=("frequency", "R/P3M"), age_days=20)

    # ------------------------------------------------------------ Secretaría de Justicia y Derechos Humanos
    org = "secretaria-de-justicia-y-derechos-humanos"
    D("recomendaciones-de-derechos-humanos", org, "Recomendaciones en materia de derechos humanos",
      "Recomendaciones recibidas por dependencia, municipio y fecha, con su estado de cumplimiento.",
      [csv("Recomendaciones", "Recomendaciones por dependencia.", "incidencia", filename="recomendaciones.csv"),
       dictionary("incidencia")],
      groups=("justicia",), tags=("derechos humanos",), freq=("frequency", "R/P3M"), age_days=20,
      license_id="licencia-estatal-2019")
    D("actos-del-estado-civil", org, "Actos del estado civil",
      "Nacimientos, matrimonios y defunciones inscritos por oficialía, municipio y fecha.",
      [csv("Actos del estado civil", "Actos inscritos por oficialía (separado por punto y coma, Latin-1).",
           "empleo", filename="actos-estado-civil.csv", encoding="latin-1", csv={"delimiter": ";"}),
       dictionary("empleo")],
      groups=("justicia", "poblacion"), tags=("estado civil",), freq=("periodicidad", "mensual"), age_days=10)
    D("defensoria-publica", org, "Asesorías de la defensoría pública",
      "Asesorías y representaciones de la defensoría pública por municipio, materia y fecha.",
      [csv("Defensoría pública", "Asesorías por municipio.", "incidencia", filename="defensoria.csv"),
       dictionary("incidencia")],
      groups=("justicia",), tags=("defensoría",), freq=("periodicidad", "eventual"), age_days=120)

    # ------------------------------------------------------------ IGECEM (scores well)
    org = "igecem"
    D("poblacion-por-municipio", org, "Población por municipio",
      "Población por municipio, sexo y grupo de edad con clave geoestadística municipal.",
      [csv("Población por municipio", "Población por municipio y sexo.", "empleo", filename="poblacion.csv"),
       dictionary("empleo")],
      groups=("poblacion", "geografia"), tags=("población", "demografía"), age_days=100,
      freq=None, top_level={"frecuencia": "anual", "cobertura_temporal": "2020-2025"})
    D("limites-municipales", org, "Localidades y cabeceras municipales",
      "Localidades con coordenadas, clave geoestadística y municipio del Estado de México.",
      [res("geojson", "Localidades (GeoJSON)", "GeoJSON", "Localidades con coordenadas.", "turismo",
           "localidades.geojson"), dictionary("turismo")],
      groups=("geografia",), tags=("localidades", "cartografía"), freq=("accrualPeriodicity", "R/P1Y"),
      age_days=150)
    D("valores-catastrales", org, "Valores unitarios de suelo",
      "Valores unitarios de suelo por zona catastral y municipio, con fecha de actualización.",
      [res("xlsx", "Valores unitarios (Excel)", "XLSX", "Valores por zona catastral.", "obras",
           "valores-catastrales.xlsx"),
       csv("Valores unitarios (CSV)", "Valores por zona catastral.", "obras", filename="valores-catastrales.csv"),
       dictionary("obras")],
      groups=("geografia", "finanzas-publicas"), tags=("catastro",), freq=("frequency", "R/P1Y"), age_days=150)
    D("indicadores-municipales", org, "Indicadores municipales",
      "Indicadores socioeconómicos por municipio con fecha de corte y clave INEGI.",
      [res("json", "Indicadores (JSON)", "JSON", "Indicadores por municipio.", "empleo", "indicadores.json"),
       dictionary("empleo")],
      groups=("poblacion",), tags=("indicadores",), freq=("frecuencia_actualizacion", "anual"), age_days=150)
    D("estadistica-basica-municipal", org, "Estadística básica municipal",
      "Estadística básica municipal por tema y municipio, con fecha de corte.",
      [csv("Estadística básica", "Registros por municipio y tema.", "produccion_agricola",
           filename="estadistica-basica.csv", csv={"delimiter": ";"}), dictionary("produccion_agricola")],
      groups=("poblacion", "geografia"), tags=("estadística",), freq=("frequency", "R/P1Y"), age_days=150,
      license_id="mx-terminos-libre-uso")

    # ------------------------------------------------------------ Secretaría General de Gobierno
    org = "secretaria-general-de-gobierno"
    D("directorio-de-servidores-publicos", org, "Directorio de servidores públicos",
      "Servidores públicos por dependencia, cargo, municipio de adscripción y fecha de alta.",
      [csv("Directorio", "Servidores públicos por dependencia.", "empleo", filename="directorio.csv"),
       dictionary("empleo")],
      groups=("gobierno", "transparencia"), tags=("directorio",), freq=("frequency", "R/P3M"), age_days=20,
      license_id="cc-zero")
    D("gaceta-del-gobierno", org, "Periódico Oficial Gaceta del Gobierno",
      "Ediciones del Periódico Oficial Gaceta del Gobierno publicadas como documentos PDF.",
      [res("pdf", "Gaceta (edición reciente)", "PDF", "Edición reciente de la Gaceta.", "obras", "gaceta.pdf"),
       res("pdf", "Gaceta (edición anterior)", "PDF", "Edición anterior de la Gaceta.", "obras",
           "gaceta-anterior.pdf")],
      groups=("gobierno",), tags=("gaceta", "periódico oficial"), freq=("periodicidad", "diaria"), age_days=0.2,
      license_id="mx-terminos-libre-uso")

    # ------------------------------------------------------------ Secretaría del Agua
    org = "secretaria-del-agua"
    D("pozos-de-agua-potable", org, "Pozos de agua potable",
      "Pozos de agua potable con municipio, caudal y fecha de la última medición.",
      [csv("Pozos de agua", "Pozos por municipio.", "calidad_aire", filename="pozos.csv"),
       dictionary("calidad_aire")],
      groups=("agua",), tags=("agua potable", "pozos"), freq=("frequency", "R/P0.5M"), age_days=5,
      license_id="odc-by")
    D("tandeo-de-agua", org, "Programa de tandeo de agua",
      "Calendario de tandeo de agua por colonia, municipio y fecha.",
      [csv("Tandeo vigente", "Calendario por colonia.", "incidencia", filename="tandeo.csv"),
       res("external", "Tandeo (FTP)", "CSV", "Réplica en el servidor FTP.",
           url="ftp://ftp.edomex.invalid/agua/tandeo.csv", outcome="unsupported_scheme"),
       res("external", "Tandeo histórico", "CSV", "Calendario de periodos anteriores.", url="",
           outcome="unsupported_scheme"),
       dictionary("incidencia")],
      groups=("agua",), tags=("tandeo",), freq=("frequency", "R/P1M"), age_days=10)
    D("hospedaje-registrado", "secretaria-de-cultura-y-turismo", "Establecimientos de hospedaje registrados",
      "Establecimientos de hospedaje con categoría, municipio, cuartos y fecha de registro.",
      [csv("Hospedaje", "Establecimientos por municipio (declarado como Excel pero es CSV).", "turismo", "XLSX",
           filename="hospedaje.xlsx"), dictionary("turismo")],
      groups=("turismo",), tags=("hospedaje",), freq=("frequency", "R/P6M"), age_days=40)
