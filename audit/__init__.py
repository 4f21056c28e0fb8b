"""Auditor de Datos Abiertos: audits CKAN portals against the ten legal characteristics of open data."""

__version__ = "0.1.0"
