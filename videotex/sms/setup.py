"""The SMS channel from its configuration: the ``[smpp]`` table (``serve --smpp URL`` sets
``url``), checked once with errors that name the key.

```toml
[smpp]
url = "smpp://videotex:secret@127.0.0.1:2775"   # smpps:// for TLS
system_type = ""          # what the SMSC expects, if anything
tls_ca = ""               # a CA file for smpps:// (default: the system's)
window = 10               # submits awaiting the SMSC's answer
enquire_every = 30        # seconds of silence before an enquire_link
short_code = "61234"      # our address: candidates text it, answers come from it
receipts = true           # ask for delivery receipts
message_price = 0.35      # per message received (overrides [billing.plans.sms])
alert_price = 0.35        # per alert the SMSC accepts
dedup_window = 120        # seconds: same sender and text without SMSC id = redelivery
max_alerts_per_sender = 5
[smpp.keywords]           # more words for a request, besides the built-in ones
result = ["NOTE"]
alert = ["PREVENIR"]
```
"""

from __future__ import annotations

import ssl
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from videotex.channels.smpp import SmppLink, parse_smpp_url

from .dialogue import SmsDialogue, check_keywords
from .engine import SmsConfig, SmsEngine
from .store import SmsStore

__all__ = ["SmsSetupError", "build_sms", "check_smpp"]

_KNOWN = {"url", "system_type", "tls_ca", "window", "enquire_every", "short_code",
          "receipts", "message_price", "alert_price", "dedup_window",
          "max_alerts_per_sender", "keywords", "response_timeout"}


class SmsSetupError(ValueError):
    """A mistake in [smpp]; the message names the key."""


def _number(table: dict[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SmsSetupError(f"[smpp] {key}: must be a number from {low:g} to {high:g}, "
                            f"not {value!r}")
    return float(value)


def _money(table: dict[str, Any], key: str) -> Decimal | None:
    if key not in table:
        return None
    raw = table[key]
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        value = Decimal(-1)
    if isinstance(raw, bool) or not value.is_finite() or value < 0:
        raise SmsSetupError(f"[smpp] {key}: must be an amount in euros >= 0, not {raw!r}")
    return value


def check_smpp(table: dict[str, Any]) -> dict[str, Any]:
    """The checked settings of ``table`` (raises :class:`SmsSetupError`)."""
    for key in table:
        if key not in _KNOWN:
            raise SmsSetupError(f"[smpp] {key}: unknown key; known: {', '.join(sorted(_KNOWN))}")
    if "url" not in table or not isinstance(table["url"], str):
        raise SmsSetupError("[smpp] url: needed (smpp://SYSTEM_ID:PASSWORD@HOST:PORT), or "
                            "give --smpp")
    try:
        target = parse_smpp_url(table["url"])
    except ValueError as e:
        raise SmsSetupError(str(e)) from None
    short_code = table.get("short_code", "61234")
    if not isinstance(short_code, str) or not short_code.isascii() or not (
            short_code.isdigit() and 3 <= len(short_code) <= 15):
        raise SmsSetupError(f"[smpp] short_code: 3 to 15 ASCII digits, not {short_code!r}")
    system_type = table.get("system_type", "")
    if not isinstance(system_type, str) or len(system_type) > 12 or not system_type.isascii():
        raise SmsSetupError(f"[smpp] system_type: at most 12 ASCII characters, not "
                            f"{system_type!r}")
    receipts = table.get("receipts", True)
    if not isinstance(receipts, bool):
        raise SmsSetupError(f"[smpp] receipts: true or false, not {receipts!r}")
    tls_ca = table.get("tls_ca", "")
    if not isinstance(tls_ca, str) or (tls_ca and not Path(tls_ca).is_file()):
        raise SmsSetupError(f"[smpp] tls_ca: {tls_ca!r} is not a readable file")
    keywords = table.get("keywords", {})
    try:
        check_keywords(keywords)
    except ValueError as e:
        raise SmsSetupError(f"[smpp.keywords] {e}") from None
    max_alerts = table.get("max_alerts_per_sender", 5)
    if isinstance(max_alerts, bool) or not isinstance(max_alerts, int) or not 1 <= max_alerts <= 100:
        raise SmsSetupError(f"[smpp] max_alerts_per_sender: a whole number from 1 to 100, "
                            f"not {max_alerts!r}")
    return {
        "target": target, "system_type": system_type, "tls_ca": tls_ca,
        "window": int(_number(table, "window", 10, 1, 1000)),
        "enquire_every": _number(table, "enquire_every", 30, 1, 3600),
        "response_timeout": _number(table, "response_timeout", 10, 1, 300),
        "message_price": _money(table, "message_price"),
        "alert_price": _money(table, "alert_price"),
        "keywords": keywords,
        "config": SmsConfig(short_code=short_code, receipts=receipts,
                            dedup_window=_number(table, "dedup_window", 120, 1, 86400),
                            max_alerts_per_sender=max_alerts),
    }


def build_sms(table: dict[str, Any], results: Any, clock: Any, store_dir: Path, *,
              ledger: Any = None, plans: dict[str, Any] | None = None
              ) -> tuple[SmsEngine, SmppLink]:
    """The engine and the link for ``table`` (open in the serving process, after fork);
    the engine's leftovers from a previous run are put back (:meth:`SmsEngine.recover`)."""
    settings = check_smpp(table)
    plan = (plans or {}).get("sms")
    if plan is not None:
        changes = {k: settings[k] for k in ("message_price", "alert_price")
                   if settings[k] is not None}
        plan = replace(plan, **changes)
    price = plan.message_price if plan is not None else None
    dialogue = SmsDialogue(results, clock, price=price, keywords=settings["keywords"])
    engine = SmsEngine(dialogue, SmsStore(store_dir), ledger=ledger, plan=plan,
                       config=settings["config"])
    engine.recover()
    context = None
    if settings["target"].tls:
        context = ssl.create_default_context(cafile=settings["tls_ca"] or None)
    link = SmppLink(settings["target"], engine, system_type=settings["system_type"],
                    window=settings["window"], enquire_every=settings["enquire_every"],
                    response_timeout=settings["response_timeout"], tls_context=context)
    engine.on_work = link.kick
    return engine, link
