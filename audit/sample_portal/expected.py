"""The oracle of the default catalogue: what a careful evaluator applying docs/reglas.md concludes.

``EXPECTED[dataset][characteristic]`` lists only the statuses an evaluator would be confident about on the FIRST
audit of the portal (``permanentes`` is ``not_applicable`` everywhere: there is no history yet). A characteristic
left out of a dataset's entry is deliberately not asserted (the definitions leave room there).

``EXPECTED_PROBE_OUTCOMES`` maps every resource URL of the catalogue to the outcome an anonymous client gets
(``audit.outcomes.Outcome`` values). Keys are URL paths for files served by the portal (``/files/...``,
``/faults/...``) and the full URL for the others (``.invalid`` hosts, ``ftp://``, the empty URL).

Dates in the catalogue are relative to the portal's start, so these hold whenever the audit runs shortly (less
than a day) after the portal started.
"""

from __future__ import annotations

from rules import CHARACTERISTICS

PASS, PARTIAL, FAIL, NA = "pass", "partial", "fail", "not_applicable"


def conforming(**overrides: str | None) -> dict[str, str]:
    """Every applicable characteristic passes, except the overrides (a value of None drops the key)."""
    out = {c: PASS for c in CHARACTERISTICS}
    out["permanentes"] = NA
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def only(**statuses: str) -> dict[str, str]:
    """Just the listed characteristics (plus permanentes = not_applicable on a first audit)."""
    return {"permanentes": NA, **statuses}


EXPECTED: dict[str, dict[str, str]] = {
    # ---------------------------------------------------------------- Secretaría de Finanzas (scores well)
    # UTF-8 CSV + data dictionary, monthly (R/P1M) and updated 12 days ago, CC BY 4.0, complete metadata
    "ingresos-estatales-mensuales": conforming(),
    # XLSX + CSV (declared " csv"), yearly (accrualPeriodicity R/P1Y) and updated 120 days ago
    "presupuesto-de-egresos": conforming(),
    # JSON records, quarterly ("periodicidad: trimestral") and updated 30 days ago
    "deuda-publica-estatal": conforming(),
    # Windows-1252 CSV with ";" delimiter (declared "Csv"), "periodicidad: mensual", 15 days old
    "participaciones-federales-a-municipios": conforming(),
    # ABOUT costs (title/notes speak of costos and tarifas) but free to download: gratuitos must pass
    "costos-de-tramites-estatales": conforming(),
    # ---------------------------------------------------------------- Secretaría del Medio Ambiente
    # weekly ("frecuencia: semanal"), updated 2 days ago
    "calidad-del-aire-zmvt": conforming(),
    # GeoJSON, yearly, 90 days old
    "areas-naturales-protegidas": conforming(),
    # XLSX served without a file extension (/files/…/descarga): sniffed as XLSX, open and machine-readable
    "centros-de-verificacion-vehicular": conforming(),
    # stale: monthly frequency but data last updated three years ago (age > 2 P); its server stamps Last-Modified
    # with the time of every request, which proves nothing (within a day of the revision)
    "residuos-solidos-municipales": conforming(oportunos=FAIL),
    # ---------------------------------------------------------------- Secretaría de Cultura y Turismo
    # R/P6M, 50 days old
    "museos-del-estado": conforming(),
    # monthly, 50 days old: between 1.25 P and 2 P
    "afluencia-pueblos-magicos": conforming(oportunos=PARTIAL),
    # CSV with three title rows above the header (legibility/primarios depend on the parser: not asserted)
    "ocupacion-hotelera": conforming(legibles_por_maquinas=None, primarios=None),
    # "eventual" frequency, last update three years ago (> 2 years → partial)
    "festivales-culturales": conforming(oportunos=PARTIAL),
    # only a PDF document: reachable but neither machine-readable nor an open data format; only a derived
    # product, so not primary data
    "catalogo-de-artesanias": conforming(legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, primarios=FAIL),
    # CSV declared as XLSX: the sniffed type (CSV) decides, so it is machine-readable and open
    "hospedaje-registrado": conforming(),
    # ---------------------------------------------------------------- Secretaría de Salud
    # CSV with CLUES ids and municipality codes, R/P3M, 20 days old
    "unidades-medicas": conforming(),
    # summary-only table: six yearly state totals plus a "Total" row, no record-level data
    "defunciones-resumen-anual": conforming(primarios=FAIL),
    # record-level CSV ending in a "Total" row (primarios is a judgement call: not asserted)
    "casos-de-dengue": conforming(primarios=None),
    # `fuente` extra names another body (federal DGIS): not from the original source
    "vacunacion-por-municipio": conforming(primarios=FAIL),
    # the only resource answers 402 with a payment page. No data obtained: nothing about the data passes on
    # metadata alone (oportunos and integrales fail, libre_uso not applicable: docs/reglas.md «Sin datos obtenibles»)
    "registro-sanitario-de-establecimientos": only(accesibles=FAIL, gratuitos=FAIL, oportunos=FAIL, libre_uso=NA,
                                                   integrales=FAIL, formatos_abiertos=FAIL),
    # ---------------------------------------------------------------- Secretaría de Educación
    # CSV + JSON, "frecuencia: anual", 150 days old
    "escuelas-de-educacion-basica": conforming(),
    # XLSX (declared "xlsx"), yearly, 200 days old
    "matricula-escolar": conforming(),
    # the only data resource redirects to /user/login (password form); the dictionary is reachable, no data are
    "becas-otorgadas": only(accesibles=PARTIAL, no_discriminatorios=FAIL, oportunos=FAIL, libre_uso=NA,
                            integrales=FAIL, formatos_abiertos=FAIL),
    # ---------------------------------------------------------------- Secretaría de Movilidad (scores badly)
    # HTML landing page declared as CSV: the link works (accesibles counts it half, manual review) but gives a page,
    # not the data, so neither free nor registration-free access can be confirmed, and no data file was obtained
    "rutas-de-transporte-publico": conforming(accesibles=PARTIAL, gratuitos=NA, no_discriminatorios=NA,
                                              legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, primarios=FAIL,
                                              integrales=FAIL, oportunos=FAIL, libre_uso=NA),
    # the only resource answers 401 (WWW-Authenticate)
    "licencias-de-conducir": only(accesibles=FAIL, no_discriminatorios=FAIL, oportunos=FAIL, libre_uso=NA,
                                  integrales=FAIL, formatos_abiertos=FAIL),
    # dataset without resources: not oportuno, not integral (nothing to download, so nothing was updated)
    "concesiones-de-transporte": only(accesibles=FAIL, gratuitos=NA, no_discriminatorios=NA, legibles_por_maquinas=FAIL,
                                      formatos_abiertos=FAIL, libre_uso=NA, integrales=FAIL, oportunos=FAIL,
                                      primarios=FAIL),
    # ABOUT fares (tarifas, costo del pasaje) but free to download
    "tarifas-de-transporte-publico": conforming(),
    # data two years old on a monthly frequency although metadata was edited 3 days ago; licence "notspecified"
    "infracciones-de-transito": conforming(oportunos=FAIL, libre_uso=FAIL),
    # one resource on a .invalid host (DNS error) and one ftp:// URL: nothing reachable, so nothing about the data
    # passes on its metadata or declared format
    "aforos-vehiculares": only(accesibles=FAIL, gratuitos=NA, no_discriminatorios=NA, oportunos=FAIL, libre_uso=NA,
                               integrales=FAIL, formatos_abiertos=FAIL, legibles_por_maquinas=FAIL,
                               primarios=NA),
    # ---------------------------------------------------------------- Secretaría de Seguridad (scores badly)
    # one public CSV and one data resource behind a 403 login page
    "incidencia-delictiva": only(accesibles=PARTIAL, no_discriminatorios=PARTIAL, gratuitos=PASS, oportunos=PASS,
                                 libre_uso=PASS, integrales=PASS),
    # a PDF declared (and served) as CSV: only a document, not data; licence "other-closed"
    "camaras-de-videovigilancia": conforming(legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, libre_uso=FAIL,
                                             primarios=FAIL),
    # empty licence_id
    "denuncias-por-municipio": conforming(libre_uso=FAIL),
    # one resource answers 500, the other a bare 403 (no login form, no WWW-Authenticate, no sign-up redirect): the
    # data are unreachable (accesibles), which says nothing about registration (no_discriminatorios not applicable)
    "personas-desaparecidas": only(accesibles=FAIL, gratuitos=NA, no_discriminatorios=NA, oportunos=FAIL,
                                   libre_uso=NA, integrales=FAIL, formatos_abiertos=FAIL),
    # metadata declares a cost: "previo pago de derechos" in notes and a `costo` extra of $1,250.00
    "estado-de-fuerza-policial": conforming(gratuitos=FAIL),
    # ---------------------------------------------------------------- Secretaría del Trabajo
    # "update_frequency: monthly", 14 days old
    "empleo-formal": conforming(),
    # JSON, R/P0.5M (every half month), 5 days old
    "vacantes-de-empleo": conforming(),
    # licence cc-nc (non-commercial)
    "conflictos-laborales": conforming(libre_uso=FAIL),
    # one of two data resources answers 404
    "capacitacion-para-el-trabajo": only(accesibles=PARTIAL, gratuitos=PASS, no_discriminatorios=PASS,
                                         oportunos=PASS, libre_uso=PASS, integrales=PASS),
    # ---------------------------------------------------------------- Secretaría de Desarrollo Económico
    # only a legacy XLS (BIFF8, declared ".XLS"): parses, so machine-readable, but not an open format
    "unidades-economicas": conforming(formatos_abiertos=FAIL),
    # XLS + CSV: some data resources in open formats; the XLS holds other columns than the data dictionary
    # declares (the dictionary describes the CSV), so integrales cannot pass
    "parques-industriales": conforming(formatos_abiertos=PARTIAL, integrales=PARTIAL),
    # `fuente` extra names another body (Secretaría de Economía federal)
    "inversion-extranjera-directa": conforming(primarios=FAIL),
    # ODbL (share-alike)
    "apoyos-a-mipymes": conforming(libre_uso=PARTIAL),
    # ---------------------------------------------------------------- Secretaría del Campo
    # Latin-1 CSV, yearly, 150 days old
    "produccion-agricola": conforming(),
    # `costo` extra with a non-zero amount (350.00)
    "precios-de-granos": conforming(gratuitos=FAIL),
    # missing tags, groups, temporal and spatial coverage: 4 of 11–13 metadata items missing
    "padron-de-productores": conforming(integrales=PARTIAL),
    # the only data resource is an empty (0-byte) file; the dictionary is reachable, no data are
    "apoyos-al-campo": only(accesibles=PARTIAL, oportunos=FAIL, libre_uso=NA, integrales=FAIL, formatos_abiertos=FAIL),
    # ---------------------------------------------------------------- Secretaría de Obra Pública (scores badly)
    # ABOUT costs ("costos unitarios", "precios de referencia") but free to download
    "costos-unitarios-de-obra": conforming(),
    # only a DOCX document (a derived product)
    "obras-en-proceso": conforming(legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, primarios=FAIL),
    # a 410 Gone CSV and a PNG map: some resources reachable, none machine-readable
    "licitaciones-de-obra": only(accesibles=PARTIAL, gratuitos=PASS, no_discriminatorios=PASS, oportunos=PASS,
                                 legibles_por_maquinas=FAIL, libre_uso=PASS, integrales=PASS),
    # bare metadata: short notes, no tags/groups/contact/frequency/coverage/dictionary, resource without
    # format or description; no declared frequency but updated 30 days ago (partial)
    "mantenimiento-carretero": only(integrales=FAIL, oportunos=PARTIAL, accesibles=PASS, gratuitos=PASS,
                                    no_discriminatorios=PASS, libre_uso=PASS),
    # ---------------------------------------------------------------- Secretaría de Desarrollo Urbano e Infraestructura
    # GeoJSON (declared "geojson"), yearly, 200 days old
    "uso-de-suelo": conforming(),
    # only a PNG image of a map (a derived product)
    "asentamientos-irregulares": conforming(legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, primarios=FAIL),
    # yearly frequency, last update three years ago (> 2 P); the file is generated on every request (a «generado»
    # column with the time of the download), so its changing hash is not an update
    "vivienda-social": conforming(oportunos=FAIL),
    # no declared frequency and two years without updates
    "licencias-de-construccion": conforming(oportunos=FAIL),
    # ---------------------------------------------------------------- Secretaría de la Contraloría
    # licence "other-open": needs manual review
    "declaraciones-patrimoniales": conforming(libre_uso=PARTIAL),
    # quarterly, 20 days old; its data dictionary declares two columns the file does not have: integrales cannot
    # pass, so the dataset is not conforme
    "sanciones-a-servidores-publicos": conforming(integrales=PARTIAL),
    # one CSV behind a 3-hop redirect chain and one served slowly (~1.5 s) — both end in 200
    "auditorias-realizadas": conforming(),
    # ---------------------------------------------------------------- Secretaría de Justicia y Derechos Humanos
    # licence id not in the portal's license_list nor in any vocabulary
    "recomendaciones-de-derechos-humanos": conforming(libre_uso=FAIL),
    # Latin-1 CSV with ";" delimiter, monthly, 10 days old
    "actos-del-estado-civil": conforming(),
    # "eventual", 120 days old (irregular within two years → pass)
    "defensoria-publica": conforming(),
    # ---------------------------------------------------------------- IGECEM (scores well)
    # frequency as a scheming-style top-level field ("frecuencia": "anual"), 100 days old
    "poblacion-por-municipio": conforming(),
    # GeoJSON, yearly
    "limites-municipales": conforming(),
    # XLSX + CSV, yearly
    "valores-catastrales": conforming(),
    # JSON, "frecuencia_actualizacion: anual"
    "indicadores-municipales": conforming(),
    # ";" CSV, Términos de Libre Uso MX
    "estadistica-basica-municipal": conforming(),
    # ---------------------------------------------------------------- Secretaría General de Gobierno
    # CC0 (cc-zero)
    "directorio-de-servidores-publicos": conforming(),
    # only PDFs (daily gazette, updated hours ago): derived documents, not data
    "gaceta-del-gobierno": conforming(legibles_por_maquinas=FAIL, formatos_abiertos=FAIL, primarios=FAIL),
    # ---------------------------------------------------------------- Secretaría del Agua
    # R/P0.5M, 5 days old, ODC-BY
    "pozos-de-agua-potable": conforming(),
    # a working CSV plus an ftp:// URL and an empty URL
    "tandeo-de-agua": only(accesibles=PARTIAL, gratuitos=PASS, no_discriminatorios=PASS, oportunos=PASS,
                           libre_uso=PASS, integrales=PASS),
}


#: with the demo's agency suite (``DEMO_SUITE_JSON`` in ``content.suites_dir``): its station expectation fails on
#: the rows of stations XAL, NEZ and ATI, so *integrales* cannot pass and the dataset is not conforme
EXPECTED_WITH_DEMO_SUITE: dict[str, dict[str, str]] = {
    "calidad-del-aire-zmvt": conforming(integrales=PARTIAL),
}


def _probe_outcomes() -> dict[str, str]:
    # Derived from the catalogue builder, where each resource declares its outcome next to the endpoint it uses;
    # tests/test_sample_portal.py checks every entry against real HTTP answers.
    from audit.sample_portal.edomex import build_edomex_catalog

    return dict(build_edomex_catalog("http://127.0.0.1:0").probe_outcomes)  # type: ignore[attr-defined]


EXPECTED_PROBE_OUTCOMES: dict[str, str] = _probe_outcomes()
