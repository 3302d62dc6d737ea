"""Error reports that hide secrets even with DEBUG on.

Django's own filter steps aside when DEBUG is true, so its debug page would show the local
variables of the DashScope client's call, the Authorization header among them. This one keeps
cleansing the variables marked with ``sensitive_variables`` and the settings whose names look
secret, whatever DEBUG says.
"""

from django.views.debug import SafeExceptionReporterFilter


class SecretsHiddenReporterFilter(SafeExceptionReporterFilter):
    def is_active(self, request) -> bool:
        return True
