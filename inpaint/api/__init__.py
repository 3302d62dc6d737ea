"""The DashScope-compatible gateway: DashScope's own paths, headers and JSON under /api/v1, so a script using the
official SDK changes only its base URL and its key. Each request becomes a job like one from the page."""

# Where the gateway is served: a script's base URL is the app's address followed by this.
PATH_PREFIX = "api/v1/"
