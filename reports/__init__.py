"""Annual reports: one HTML + PDF report for the portal and one per organization .

Modules (imported lazily by callers: WeasyPrint is slow to import)::

    reports.model      build_portal_report / build_organization_report over the read model (audit.results)
    reports.records    the dataclasses the templates display
    reports.actions    the prioritised action list (states below "pass" credited to their root causes)
    reports.validation agency-suite and data-dictionary results in Spanish
    reports.render     render_reports (parallel), render_html (one Jinja2 env), html_to_pdf (data:-only fetcher)
    reports.format     es-MX formatting (Babel) and Jinja2 filters, shared with the dashboard
    reports.charts     SVG charts (written directly) with text alternatives, shared with the dashboard

See docs/reports.md.
"""
