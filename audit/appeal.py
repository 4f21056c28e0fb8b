"""The appeal package: everything the auditor saw of one dataset during a year, in one ZIP an evaluator can hand
to an agency that contests a result («el archivo no estaba disponible», «los datos no se actualizaron»).

For each revision (complete run) of the year that listed the dataset: the metadata as crawled, what was requested
for each resource and what came back (status, final URL, redirect chain, the response headers the prober keeps,
outcome and error), the content check, the rule results with their evidence, and the archived bytes themselves
(decompressed; deduplicated inside the ZIP by SHA-256): the file the content check evaluated, and what the probe
read of every other resource (a PDF, a page served instead of data, a ZIP…) — the whole file, or only its first
``probe.sniff_bytes`` (then named ``<sha256>.parcial.<ext>`` and marked incomplete, with the size the server
declared, in ``archivos.json``). ``MANIFEST.sha256`` lists every member with its hash, in the format
``sha256sum -c`` reads.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from audit.archive import EvidenceArchive
from audit.errors import InputFileError
from audit.store.db import Store
from audit.store.models import (
    AuditRun,
    ContentCheck,
    DatasetSnapshot,
    Portal,
    Probe,
    ResourceSnapshot,
    RuleResultRecord,
)
from audit.textnorm import match_key

if TYPE_CHECKING:
    from audit.config import AuditConfig

_PROBE_FIELDS = ("outcome", "reason", "status_code", "final_url", "redirects", "content_type", "content_length",
                 "content_disposition", "last_modified", "etag", "sniffed_type", "bytes_read", "truncated", "sha256",
                 "elapsed_ms", "error", "not_modified", "checked_at")
_README = """Paquete de evidencia del Auditor de Datos Abiertos
====================================================

Conjunto: {dataset} ({title})
Portal: {portal}
Año evaluado: {year}
Generado: {generated}

Contenido:
- revisiones/<corrida>_<fecha>/conjunto.json: los metadatos del conjunto tal como se leyeron del portal.
- revisiones/<corrida>_<fecha>/recursos.json: por recurso, lo que se pidió (URL) y lo que respondió el servidor
  (código HTTP, URL final, redirecciones, encabezados, resultado, error) y la validación de su contenido.
- revisiones/<corrida>_<fecha>/resultados.json: el resultado de cada característica, con hallazgos y evidencia.
- archivos/<sha256>.<ext>: copia de lo que respondió el servidor en esa revisión: el archivo cuyo contenido se
  validó o lo que leyó el sondeo (un PDF, una página web en vez de datos, un ZIP…). Se identifica por su SHA-256;
  el mismo archivo visto en varias revisiones se incluye una vez. Un archivo no incluido se explica en
  recursos.json.
- archivos/<sha256>.parcial.<ext>: solo los primeros bytes de un archivo más grande (el sondeo lee los primeros
  probe.sniff_bytes); su SHA-256 es el de esos bytes.
- archivos.json: índice de los archivos incluidos: ruta, SHA-256, bytes, si está completo o es parcial (con el
  tamaño que declaró el servidor), de dónde proviene (sondeo o validación del contenido) y en qué revisiones.
- MANIFEST.sha256: la huella SHA-256 de cada archivo de este paquete (verifique con `sha256sum -c MANIFEST.sha256`).

Revisiones incluidas: {runs}
"""


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _json(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def _extension(url: str | None, sniffed: str | None) -> str:
    if sniffed and sniffed.isalnum() and len(sniffed) <= 8:
        return sniffed
    tail = (url or "").rsplit("/", 1)[-1]
    ext = tail.rsplit(".", 1)[-1].lower() if "." in tail else ""
    return ext if ext.isalnum() and len(ext) <= 8 else "bin"


def _find_snapshots(store: Store, dataset: str, year: int, portal_url: str | None) -> list[tuple[AuditRun, DatasetSnapshot]]:
    key = match_key(dataset)
    query = (select(AuditRun, DatasetSnapshot).join(DatasetSnapshot, DatasetSnapshot.run_id == AuditRun.id)
             .where(AuditRun.status == "complete", AuditRun.year == year)
             .order_by(AuditRun.started_at))
    if portal_url:
        query = query.join(Portal, Portal.id == AuditRun.portal_id).where(Portal.url == portal_url)
    with store.session() as s:
        exact = s.execute(query.where(or_(DatasetSnapshot.name == dataset, DatasetSnapshot.ckan_id == dataset))).all()
        if exact:
            return [(r, d) for r, d in exact]
        # as evaluators write it: the title, ignoring case, accents and punctuation
        rows = s.execute(query).all()
        return [(r, d) for r, d in rows if key and key in (match_key(d.name), match_key(d.title))]


def build_appeal_package(store: Store, cfg: AuditConfig, dataset: str, year: int, out: Path) -> dict[str, int]:
    """Write the ZIP for ``dataset`` (CKAN name, id or title) and ``year``; returns counts. Raises InputFileError
    when the dataset was not listed in any complete run of that year."""
    matches = _find_snapshots(store, dataset, year, cfg.portal_url)
    if not matches:
        raise InputFileError(
            f"El conjunto «{dataset}» no aparece en ninguna revisión completa de {year}.",
            hint="Use el nombre CKAN del conjunto (como en scores.csv) o su título, y el año evaluado (--year).",
        )
    archive = EvidenceArchive.from_config(cfg) if cfg.archive.enabled else None
    members: dict[str, bytes] = {}
    index: dict[str, dict[str, Any]] = {}  # ruta → what archivos.json says about that member
    files_included = files_missing = 0
    run_labels = []
    with store.session() as s:
        for run, ds in matches:
            label = f"{run.id}_{run.started_at:%Y-%m-%d}"
            run_labels.append(label)
            base = f"revisiones/{label}"
            members[f"{base}/conjunto.json"] = _json(ds.raw)
            resources = []
            for res in s.scalars(select(ResourceSnapshot).where(ResourceSnapshot.dataset_snapshot_id == ds.id)
                                 .order_by(ResourceSnapshot.position)):
                probe = s.scalar(select(Probe).where(Probe.run_id == run.id, Probe.resource_snapshot_id == res.id))
                check = s.scalar(select(ContentCheck).where(ContentCheck.run_id == run.id,
                                                            ContentCheck.resource_snapshot_id == res.id))
                entry: dict[str, Any] = {"recurso": res.name, "ckan_id": res.ckan_id, "url_solicitada": res.url,
                                         "formato_declarado": res.format}
                entry["sondeo"] = ({f: _iso(getattr(probe, f)) for f in _PROBE_FIELDS} if probe is not None
                                   else "sin sondeo en esta revisión")
                if check is not None:
                    details = check.details or {}
                    entry["validacion_contenido"] = {
                        "sha256": check.sha256, "legible": check.parsed_ok, "filas": check.rows,
                        "columnas": check.columns, "problemas": details.get("problems") or [],
                        "reutilizada_de_corrida": details.get("reused_from_run"),
                    }
                    stored = details.get("archive") or {}
                    entry["archivo"] = _attach(archive, members, check.sha256, stored, res.url,
                                               probe.sniffed_type if probe is not None else None)
                    _index(index, entry["archivo"], "validacion_contenido", label, complete=not details.get("truncated"),
                           declared=probe.content_length if probe is not None else None)
                    if entry["archivo"].get("incluido"):
                        files_included += 1
                    else:
                        files_missing += 1
                if probe is not None and probe.sha256:
                    entry["bytes_sondeo"] = _attach_probe(archive, members, probe, res.url, entry.get("archivo"))
                    _index(index, entry["bytes_sondeo"], "sondeo", label, complete=not probe.truncated,
                           declared=probe.content_length)
                    if entry["bytes_sondeo"].get("incluido") and "mismo_archivo_que" not in entry["bytes_sondeo"]:
                        files_included += 1
                    elif not entry["bytes_sondeo"].get("incluido"):
                        files_missing += 1
                resources.append(entry)
            members[f"{base}/recursos.json"] = _json(resources)
            results = [
                {"caracteristica": r.characteristic, "estado": r.status, "calificacion": r.score,
                 "estado_automatico": r.automatic_status, "hallazgos": r.findings, "evidencia": r.evidence}
                for r in s.scalars(select(RuleResultRecord).where(RuleResultRecord.run_id == run.id,
                                                                  RuleResultRecord.dataset_snapshot_id == ds.id)
                                   .order_by(RuleResultRecord.id))
            ]
            members[f"{base}/resultados.json"] = _json(results)
    members["archivos.json"] = _json(sorted(
        ({**meta, "revisiones": sorted(meta["revisiones"]), "origen": sorted(meta["origen"])} for meta in index.values()),
        key=lambda meta: str(meta["ruta"])))
    first = matches[-1][1]
    members["LEEME.txt"] = _README.format(
        dataset=first.name, title=first.title or first.name, portal=cfg.portal_url or "", year=year,
        generated=datetime.now().astimezone().isoformat(timespec="seconds"), runs=", ".join(run_labels),
    ).encode("utf-8")
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items()))
    members["MANIFEST.sha256"] = manifest.encode("utf-8")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    tmp.replace(out)
    return {"revisions": len(matches), "files": files_included, "files_missing": files_missing,
            "partial_files": sum(1 for meta in index.values() if not meta["completo"]), "members": len(members)}


def _attach_probe(archive: EvidenceArchive | None, members: dict[str, bytes], probe: Probe, url: str | None,
                  checked: dict[str, Any] | None) -> dict[str, Any]:
    """What the probe read of the resource: the whole file, or its first ``probe.sniff_bytes`` (``parcial``)."""
    sha = str(probe.sha256)
    partial = bool(probe.truncated)
    if checked and checked.get("incluido") and (checked.get("sha256") == sha or partial):
        # the same bytes, or only the first bytes of the file the content check kept whole
        same: dict[str, Any] = {"incluido": True, "sha256": sha, "mismo_archivo_que": checked.get("ruta"),
                                "completo": not partial}
        if partial and checked.get("sha256") != sha:
            same["nota"] = "el sondeo leyó solo los primeros bytes de este archivo; se incluye completo"
        return same
    if archive is None:
        return {"incluido": False, "sha256": sha, "motivo": "el archivo de evidencias está desactivado"}
    name = f"archivos/{sha}{'.parcial' if partial else ''}.{_extension(url, probe.sniffed_type)}"
    if name not in members:
        data = archive.read(sha)
        if data is None:
            if partial and checked is not None:
                return {"incluido": False, "sha256": sha, "motivo": "el sondeo no guarda los primeros bytes de un "
                        "archivo de datos: la validación del contenido lo descarga y lo guarda completo (ver «archivo»)"}
            return {"incluido": False, "sha256": sha,
                    "motivo": "no se conservó (archivo de evidencias desactivado o borrado por retención)"}
        members[name] = data
    info: dict[str, Any] = {"incluido": True, "ruta": name, "sha256": sha, "bytes": len(members[name]),
                            "completo": not partial}
    if partial:
        total = f"{probe.content_length} bytes" if probe.content_length else "tamaño no declarado por el servidor"
        info["nota"] = (f"solo los primeros {len(members[name])} bytes del archivo ({total}): el sondeo lee los "
                        "primeros probe.sniff_bytes")
    return info


def _index(index: dict[str, dict[str, Any]], info: dict[str, Any], origin: str, revision: str, *, complete: bool,
           declared: int | None) -> None:
    name = info.get("ruta")
    if not info.get("incluido") or not name or "mismo_archivo_que" in info:
        return
    meta = index.setdefault(name, {"ruta": name, "sha256": info.get("sha256"), "bytes": info.get("bytes"),
                                   "completo": complete, "bytes_declarados_por_el_servidor": declared,
                                   "origen": set(), "revisiones": set()})
    meta["origen"].add(origin)
    meta["revisiones"].add(revision)


def _attach(archive: EvidenceArchive | None, members: dict[str, bytes], sha256: str | None, stored: dict[str, Any],
            url: str | None, sniffed: str | None) -> dict[str, Any]:
    if not sha256:
        return {"incluido": False, "motivo": "la descarga para validar el contenido no obtuvo el archivo"}
    if archive is None:
        return {"incluido": False, "sha256": sha256, "motivo": "el archivo de evidencias está desactivado"}
    name = f"archivos/{sha256}.{_extension(url, sniffed)}"
    if name in members:
        return {"incluido": True, "ruta": name, "sha256": sha256}
    data = archive.read(sha256)
    if data is None:
        reason = {"too_large": "excedía archive.max_file_bytes"}.get(stored.get("reason", ""), "no se conservó "
                                                                     "(archivo desactivado o borrado por retención)")
        return {"incluido": False, "sha256": sha256, "motivo": reason}
    members[name] = data
    return {"incluido": True, "ruta": name, "sha256": sha256, "bytes": len(data)}

