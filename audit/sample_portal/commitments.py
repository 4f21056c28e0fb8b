"""The demo's commitments inventory (``organization,dataset,due_date``) for the default catalogue.

Organizations and datasets are written the way agencies really write them: CKAN names, titles with or without
accents, odd capitals and spacing. Due dates are relative to the current year so that the indicator's year cut-off
keeps meaning the same thing.

``EXPECTED_PROGRESS[org] = (committed, published)`` is what the indicator must compute for the audit year (the
current year): *committed* = rows due on or before 31 December; *published* = those matched to a public dataset
of THAT organization with at least one reachable resource. Organizations absent from it have no commitments.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime


def demo_commitments_rows(year: int) -> list[tuple[str, str, str]]:
    y, nxt = year, year + 1
    return [
        # Secretaría de Finanzas: 3 committed (one not on the portal), 2 published; one due next year
        ("Secretaría de Finanzas", "INGRESOS ESTATALES MENSUALES", f"{y}-03-31"),
        ("  secretaria   de finanzas ", "deuda-publica-estatal", f"{y}-06-30"),
        ("secretaria-de-finanzas", "Padrón de contribuyentes del impuesto sobre nóminas", f"{y}-09-30"),
        ("secretaria-de-finanzas", "costos-de-tramites-estatales", f"{nxt}-03-31"),
        # Secretaría de Movilidad: 4 committed, only the landing page counts as reachable → 1 published
        ("secretaria-de-movilidad", "concesiones-de-transporte", f"{y}-04-30"),  # no resources
        ("Secretaría de Movilidad", "Licencias de conducir expedidas", f"{y}-05-31"),  # 401 only
        ("SECRETARIA DE MOVILIDAD", "rutas de transporte publico", f"{y}-06-30"),  # HTML page: reachable
        ("secretaria-de-movilidad", "aforos-vehiculares", f"{y - 1}-12-31"),  # DNS error + ftp://
        # IGECEM: everything published
        ("igecem", "poblacion-por-municipio", f"{y}-02-28"),
        ("IGECEM", "Localidades y cabeceras municipales", f"{y}-03-31"),
        ("igecem", "valores-catastrales", f"{y}-12-31"),
        # Secretaría de Salud: the 402 dataset is not published
        ("Secretaria de Salud", "registro-sanitario-de-establecimientos", f"{y}-05-31"),
        ("Secretaria de Salud", "Unidades médicas del Instituto de Salud del Estado de México", f"{y}-05-31"),
        # Secretaría de las Mujeres publishes nothing yet
        ("Secretaría de las Mujeres", "Víctimas de violencia de género", f"{y}-05-31"),
        # a real dataset, but of another organization: not a publication of Secretaría del Campo
        ("secretaria-del-campo", "ingresos-estatales-mensuales", f"{y}-07-31"),
        ("secretaria-del-campo", "Producción agrícola por municipio", f"{y}-07-31"),
    ]


def demo_commitments_csv(year: int | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["organization", "dataset", "due_date"])
    writer.writerows(demo_commitments_rows(year or datetime.now(UTC).year))
    return buf.getvalue()


#: the inventory for the current year (what ``run_audit.py demo`` loads)
DEMO_COMMITMENTS_CSV: str = demo_commitments_csv()

#: organization → (committed, published) for the current audit year
EXPECTED_PROGRESS: dict[str, tuple[int, int]] = {
    "secretaria-de-finanzas": (3, 2),
    "secretaria-de-movilidad": (4, 1),
    "igecem": (3, 3),
    "secretaria-de-salud": (2, 1),
    "secretaria-de-las-mujeres": (1, 0),
    "secretaria-del-campo": (2, 1),
}

#: commitments that match no dataset of their organization (due this year or earlier)
EXPECTED_UNMATCHED: tuple[tuple[str, str], ...] = (
    ("secretaria-de-finanzas", "Padrón de contribuyentes del impuesto sobre nóminas"),
    ("secretaria-de-las-mujeres", "Víctimas de violencia de género"),
    ("secretaria-del-campo", "ingresos-estatales-mensuales"),
)
