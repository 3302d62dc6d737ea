"""The DashScope-compatible gateway: DashScope's own paths, headers and JSON under /api/v1, so a script using the
official SDK changes only its base URL and its key. Each request becomes a job like one from the page."""
