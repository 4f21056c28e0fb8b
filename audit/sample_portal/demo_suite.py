"""The demo's example agency suite: quality rules the Secretaría del Medio Ambiente could write for the measurements
of its air-quality dataset (``calidad-del-aire-zmvt``), in the format of ``rules/suites/README.md``.

``run_audit.py demo`` writes it to ``<out>/suites/calidad-del-aire-zmvt__mediciones-de-calidad-del-aire.json`` and
points ``content.suites_dir`` there. The file names the resource (not only the dataset) because the dataset also
publishes a data dictionary, which a dataset-wide suite would be run on too. Three expectations hold on the sample
file; the station one fails on purpose: the file mixes in stations of the Valle de México network (XAL, NEZ, ATI),
so the demo report shows a failure with example values.
"""

from __future__ import annotations

import json

DEMO_SUITE_DATASET = "calidad-del-aire-zmvt"
DEMO_SUITE_ORGANIZATION = "secretaria-del-medio-ambiente"
DEMO_SUITE_RESOURCE = "Mediciones de calidad del aire"
DEMO_SUITE_FILE = f"{DEMO_SUITE_DATASET}__mediciones-de-calidad-del-aire.json"
#: the station codes of the Valle de Toluca monitoring network (the sample data also has XAL, NEZ and ATI)
DEMO_SUITE_STATIONS = ["TOL", "MET", "OXT", "SMA", "SCH", "AJU", "XON", "CEB"]

DEMO_SUITE: dict[str, object] = {
    "name": "Mediciones de calidad del aire: rangos y estaciones",
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "fecha"},
         "meta": {"nota": "Toda medición lleva la fecha en que se tomó."}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "pm10", "min_value": 0, "max_value": 600},
         "meta": {"nota": "PM10 en µg/m³: un valor negativo o mayor que 600 es un error de captura."}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "ozono", "min_value": 0, "max_value": 0.5},
         "meta": {"nota": "Ozono en partes por millón (ppm)."}},
        {"type": "expect_column_values_to_be_in_set",
         "kwargs": {"column": "estacion", "value_set": DEMO_SUITE_STATIONS},
         "meta": {"nota": "Sólo estaciones de la red de monitoreo del Valle de Toluca."}},
    ],
}

#: the file the demo writes (JSON, as an agency would send it)
DEMO_SUITE_JSON = json.dumps(DEMO_SUITE, ensure_ascii=False, indent=2) + "\n"
