"""Catalogue sources: CKAN Action API and DCAT (data.json, RDF), behind one interface (``base.CatalogSource``)."""

from audit.sources.base import CatalogSource, DatasetPage, PortalInfo

__all__ = ["CatalogSource", "DatasetPage", "PortalInfo"]
