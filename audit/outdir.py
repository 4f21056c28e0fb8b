"""The results folder: checked before any work, and a year's outputs swapped in whole.

* :func:`check_out_dir` runs before the crawl: the folder exists or can be created, a file can be written in it,
  and it has at least ``limits.out_min_free_mb`` free. An unusable folder costs nothing but a message.
* The export and report stages write into a staging folder next to the year's, ``OUT/.<year>.corrida-<run>``;
  :func:`swap_in` then exchanges it with ``OUT/<year>`` in one step (``renameat2(RENAME_EXCHANGE)`` on Linux, two
  renames elsewhere), so ``OUT/<year>`` is always one run's complete set: a stop, a crash or a full disk while
  writing leaves the previous set untouched.
* ``MANIFEST.sha256`` (audit.manifest) is written into the staging folder right before the swap, so it always
  describes exactly the set swapped in.
* A command that rewrites only part of a run's outputs (``report --organization``, ``score``) keeps the rest: files
  of the same run missing from the staging folder are moved into it before the swap.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import logging
import os
import shutil
import sys
import uuid
from pathlib import Path

from audit.errors import AuditError, ConfigError
from audit.manifest import write_manifest

log = logging.getLogger(__name__)

#: the run a year's folder belongs to (one line: the run id)
RUN_MARKER = ".corrida"
#: errno values that mean "no room to write"
FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputFullError(AuditError):
    """The results folder ran out of space (or hit a file size limit) while writing: resumable."""

    exit_code = 2
    resumable = True


def check_out_dir(out: Path, min_free_mb: float) -> None:
    """Raise :class:`ConfigError` (exit 2) unless ``out`` can take this run's outputs: it exists or can be created
    (nothing is created here: a run that fails before writing leaves no folder), a file can be written in it (or
    in the folder it would be created in), and it has at least ``min_free_mb`` free."""
    out = Path(out).absolute()
    where = out
    while not where.exists() and where.parent != where:
        where = where.parent
    if not where.is_dir():
        raise ConfigError(f"No se puede crear la carpeta de resultados {out}: {where} no es una carpeta.",
                          hint="Indique con --out una carpeta donde este usuario pueda escribir.")
    probe = where / f".prueba-escritura-{uuid.uuid4().hex[:8]}"
    try:
        probe.write_bytes(b"ok")
    except OSError as exc:
        if exc.errno in FULL_ERRNOS:
            raise ConfigError(f"La carpeta de resultados {out} no tiene espacio libre.",
                              hint="Libere espacio o use --out con otra carpeta.") from exc
        raise ConfigError(f"No se puede escribir en la carpeta de resultados {out}: {exc.strerror or exc}",
                          hint="Revise los permisos o use --out con otra carpeta.") from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
    free_mb = shutil.disk_usage(where).free / 2**20
    if free_mb < min_free_mb:
        raise ConfigError(
            f"La carpeta de resultados {out} tiene {free_mb:.0f} MB libres; se requieren al menos {min_free_mb:.0f} MB "
            "(limits.out_min_free_mb).",
            hint="Libere espacio, use --out con otra carpeta o ajuste limits.out_min_free_mb en config.yaml.",
        )


def staging_dir(out: Path, year: int, run_id: int) -> Path:
    return Path(out) / f".{year}.corrida-{run_id}"


def prepare_staging(out: Path, year: int, run_id: int) -> Path:
    """The staging folder of ``run_id``'s outputs for ``year`` (created; kept if an interrupted stage left it)."""
    path = staging_dir(out, year, run_id)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / RUN_MARKER).write_text(f"{run_id}\n", encoding="ascii")
    except OSError as exc:
        raise output_error(exc, Path(out)) from exc
    return path


def discard_staging(out: Path, year: int, run_id: int) -> None:
    shutil.rmtree(staging_dir(out, year, run_id), ignore_errors=True)


def swap_in(out: Path, year: int, run_id: int) -> Path:
    """Make the staging folder of ``run_id`` the year's folder ``OUT/<year>``; returns it."""
    out = Path(out)
    staging, target = staging_dir(out, year, run_id), out / str(year)
    if not staging.is_dir():
        return target
    try:
        if target.is_dir() and _run_of(target) == run_id:
            _carry_over(target, staging)
        write_manifest(staging)  # last: it lists every file of the set being swapped in
        if target.exists():
            _exchange(staging, target)  # staging now holds the previous set
            shutil.rmtree(staging, ignore_errors=True)
        else:
            os.rename(staging, target)
    except OSError as exc:
        raise output_error(exc, out) from exc
    for leftover in out.glob(f".{year}.corrida-*"):  # staging folders of runs that never finished
        shutil.rmtree(leftover, ignore_errors=True)
    log.info("outputs run=%d year=%d event=swapped_in dir=%s", run_id, year, target)
    return target


def _run_of(folder: Path) -> int | None:
    try:
        return int((folder / RUN_MARKER).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None


def _carry_over(old: Path, new: Path) -> None:
    """Move into ``new`` every file of ``old`` that ``new`` lacks (same file system: renames, no copies)."""
    for path in sorted(old.rglob("*")):
        if not path.is_file():
            continue
        dest = new / path.relative_to(old)
        if dest.exists() or path.suffix == ".tmp":
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.rename(path, dest)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders atomically where the kernel can (Linux ≥ 3.15), else with two renames."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = getattr(libc, "renameat2", None)
        if fn is not None:
            if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
                return
            err = ctypes.get_errno()
            if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):  # unsupported here: fall back
                raise OSError(err, os.strerror(err), str(b))
    aside = b.with_name(b.name + f".anterior-{uuid.uuid4().hex[:6]}")
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


def output_error(exc: OSError, out: Path) -> AuditError:
    """A write error in the results folder as one Spanish message; a full disk is resumable (exit 2)."""
    if exc.errno in FULL_ERRNOS:
        return OutputFullError(
            f"No queda espacio para escribir los resultados en {out} ({exc.strerror}).",
            hint="Libere espacio y continúe con `audit --resume`: lo ya evaluado no se repite y la carpeta del "
                 "año conserva los resultados anteriores completos.",
        )
    return ConfigError(f"No se pudieron escribir los resultados en {out}: {exc.strerror or exc}",
                       hint="Revise los permisos y el espacio de la carpeta (--out).")


def full_disk_message(message: str) -> bool:
    """Whether an error text recorded by a worker (``OSError: [Errno 28] …``) says the disk is full."""
    return any(f"[Errno {code}]" in message for code in FULL_ERRNOS)
