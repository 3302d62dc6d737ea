"""DashScope's error codes in plain words: what a non-technical person can do about each."""

from __future__ import annotations

from django.utils.translation import gettext_noop

from inpaint.stored_messages import stored_fill, stored_template

# Stored on the job in English and shown in the reader's language (inpaint.stored_messages).
_ADMIN_KEY = gettext_noop("The server's DashScope key is missing or wrong; ask the administrator.")
_ADMIN_BILLING = gettext_noop("The DashScope account has no free quota or credit left for this model; ask the administrator, "
                    "or use the offline engine.")
_ADMIN_ACCESS = gettext_noop("The server's DashScope account may not use this model; ask the administrator.")
_CONTENT_CHECK = gettext_noop("DashScope's content check refused the picture or the prompt. Change the prompt or use another picture.")
_CANNOT_FETCH = gettext_noop("DashScope could not download the picture from this server. Ask the administrator to check "
                   "the app's public address setting, or to leave it empty so temporary storage is used.")
_RUN_AGAIN = gettext_noop("DashScope had an internal problem with this job. Run it again in a minute.")

# DashScope's own words (in English) are kept as they came, inside the explanation.
_REFUSED = stored_template(gettext_noop("DashScope refused the request (%(reason)s). Change the picture, mask or settings and "
                              "try again."))
_COULD_NOT_PAINT = stored_template(gettext_noop("DashScope could not paint this picture (%(reason)s). Try again; if it keeps "
                                      "failing, ask the administrator."))
_NO_REASON = gettext_noop("no reason given")

ERROR_MESSAGES = {
    "InvalidApiKey": _ADMIN_KEY,
    "Arrearage": _ADMIN_BILLING,
    "PrepaidBillOverdue": _ADMIN_BILLING,
    "PostpaidBillOverdue": _ADMIN_BILLING,
    "CommodityNotPurchased": _ADMIN_BILLING,
    "AllocationQuota.FreeTierOnly": _ADMIN_BILLING,
    "Throttling.AllocationQuota": _ADMIN_BILLING,
    "AccessDenied.Unpurchased": _ADMIN_BILLING,
    "AccessDenied": _ADMIN_ACCESS,
    "Model.AccessDenied": _ADMIN_ACCESS,
    "Workspace.AccessDenied": gettext_noop("The server's DashScope key belongs to another workspace; ask the administrator."),
    "ModelNotFound": gettext_noop("DashScope does not offer this model where this server's account is. Ask the administrator, or choose another engine."),
    "DataInspectionFailed": _CONTENT_CHECK,
    "InternalError.Algo.DataInspectionFailed": _CONTENT_CHECK,
    "IPInfringementSuspect": gettext_noop("DashScope suspects the picture or prompt infringes someone's rights. Use another picture or prompt."),
    "BadRequest.InputDownloadFailed": _CANNOT_FETCH,
    "InvalidParameter.DataInspection": _CANNOT_FETCH,
    "InvalidURL": _CANNOT_FETCH,
    "BadRequest.UnsupportedFileFormat": gettext_noop("DashScope could not read the picture's format. Save it as JPEG or PNG and try again."),
    "BadRequest.TooLarge": gettext_noop("The picture is too large for DashScope. Use a smaller picture."),
    "InternalError.Timeout": gettext_noop("DashScope ran out of time on this image. Run the job again."),
    "UNKNOWN": gettext_noop("DashScope no longer knows this job (it keeps jobs for 24 hours). Run it again."),
}


def dashscope_error_explain(code: str, message: str) -> str:
    """What a non-technical person can do about an error DashScope reported."""
    if code in ERROR_MESSAGES:
        return ERROR_MESSAGES[code]
    if code.startswith("InvalidParameter"):
        return stored_fill(_REFUSED, reason=message.rstrip("."))
    if code.startswith("InternalError") or code in ("SystemError", "ModelUnavailable"):
        return _RUN_AGAIN
    return stored_fill(_COULD_NOT_PAINT, reason=code or _NO_REASON)
