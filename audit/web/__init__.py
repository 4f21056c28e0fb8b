"""The dashboard: a FastAPI application over the audit store (HTML views, JSON API, admin actions).

``create_app(cfg, store)`` builds the application; ``serve(cfg, store, host, port)`` runs it with uvicorn.
"""

from __future__ import annotations

from audit.web.app import create_app, serve

__all__ = ["create_app", "serve"]
