"""The one import for the SMS channel's words: ``from videotex.sms import text as words``.

Re-exports, unchanged, the public names of the three modules that own them:

- :mod:`videotex.sms.parse`: what a candidate texts -> :class:`MoRequest` or
  :class:`MoError` (:func:`parse_mo`, never raises for a ``str``);
- :mod:`videotex.sms.wording`: what we answer (:func:`result_text`,
  :func:`not_published_text`, ...), never saying before publication whether a number
  exists;
- :mod:`videotex.sms.gsm`: the packing of a reply into SMPP short messages and back
  (:func:`encode_sms`, :func:`decode_sms`: GSM 03.38 or UCS-2, concatenation UDH).

Nothing is defined here; a new public name goes in its module's ``__all__`` and here.
"""

from __future__ import annotations

from videotex.sms.gsm import (
    MAX_PARTS,
    SmsDecodeError,
    SmsEncoding,
    SmsParts,
    decode_sms,
    encode_sms,
)
from videotex.sms.parse import (
    EXAMPLE,
    MAX_MO_CHARS,
    MoError,
    MoErrorCode,
    MoKind,
    MoRequest,
    parse_mo,
)
from videotex.sms.wording import (
    alert_already_text,
    alert_confirm_text,
    alert_not_found_text,
    error_text,
    help_text,
    not_found_text,
    not_published_text,
    refused_text,
    result_text,
    stop_text,
    too_many_alerts_text,
)

__all__ = [
    "EXAMPLE",
    "MAX_MO_CHARS",
    "MAX_PARTS",
    "MoError",
    "MoErrorCode",
    "MoKind",
    "MoRequest",
    "SmsDecodeError",
    "SmsEncoding",
    "SmsParts",
    "alert_already_text",
    "alert_confirm_text",
    "alert_not_found_text",
    "decode_sms",
    "encode_sms",
    "error_text",
    "help_text",
    "not_found_text",
    "not_published_text",
    "parse_mo",
    "refused_text",
    "result_text",
    "stop_text",
    "too_many_alerts_text",
]
