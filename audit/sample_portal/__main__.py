"""``python -m audit.sample_portal [--port 5000] [--synthetic N] [--host 127.0.0.1] [--token T]``: serve until Ctrl-C."""

from __future__ import annotations

import argparse
import sys
import threading

from audit.sample_portal.server import SamplePortal


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m audit.sample_portal",
                                     description="Portal CKAN de muestra (Estado de México) para pruebas y demos.")
    parser.add_argument("--host", default="127.0.0.1", help="Dirección de escucha (por omisión 127.0.0.1).")
    parser.add_argument("--port", type=int, default=0, help="Puerto (0 = uno libre).")
    parser.add_argument("--synthetic", type=int, default=None, metavar="N",
                        help="Servir N conjuntos sintéticos en lugar del catálogo del Estado de México.")
    parser.add_argument("--token", default=None, help="Token aceptado por las acciones de escritura.")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="Retraso añadido a cada llamada a la API (simula un CKAN real con base de datos y Solr).")
    args = parser.parse_args(argv)
    try:
        portal = SamplePortal(synthetic=args.synthetic, host=args.host, port=args.port, token=args.token).start()
    except OSError as exc:
        print(f"No se pudo iniciar el portal de muestra en {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    if args.latency_ms > 0:  # the same delay for every action, so clients are compared fairly
        portal.faults.add(None, delay=args.latency_ms / 1000, times=10**12)
    print(portal.url, flush=True)
    print(f"Token de escritura: {portal.token}", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        portal.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
