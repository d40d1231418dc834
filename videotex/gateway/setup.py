"""From the configuration to the gateway: the directory of services, and the factory of
the calls the switchboard makes.

``[kiosk]`` and ``[[services]]`` (see :mod:`videotex.runtime.config`) are checked here, at
startup, with messages that name the file, the service and the key: a service of an
unknown kind, a tariff plan that does not exist, a page tree that does not load, a URL
that is not http(s). No configuration of either: no gateway (the exam results alone).

A page tree is loaded ready to serve (each page its original bytes), its optimizer's
decisions left to :func:`background_work`, which the process that serves runs from its
event loop, a page at a time between other work: startup does not wait for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .call import GatewayCall
from .directory import KINDS, Directory, ServiceEntry, normalise_code

__all__ = ["GatewayError", "background_work", "build_directory", "call_factory",
           "price_text"]

log = logging.getLogger("videotex.gateway")

_KIOSK_KEYS = ("number", "name", "plan")
_SERVICE_KEYS = ("code", "name", "kind", "plan", "url", "path", "price")


class GatewayError(ValueError):
    """A gateway configuration mistake; the message says where."""


def price_text(plan: Any) -> str:
    """A plan's price in words for the Guide's list: ``0,34 €/min``, ``3,00 € le
    résultat``, ``gratuit``."""
    if plan is None:
        return ""
    if getattr(plan, "free", False):
        return "gratuit"
    if plan.per_consultation and plan.price_per_minute <= 0:
        return f"{_eur(plan.consultation_price)} le résultat"
    return f"{_eur(plan.price_per_minute)}/min"


def _eur(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",") + " €"


def _str(table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value:
        raise GatewayError(f"{where}: {key} must be a non-empty string, not {value!r}")
    return value


def valid_service_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def build_directory(config: Any, results: Any, plans: dict[str, Any] | None) -> Directory | None:
    """The kiosk of ``config`` (None when it configures no gateway). ``results`` is the
    exam-results service (``kind = "results"``); ``plans`` the billing plans by name (None:
    billing is off, plans are not checked)."""
    source = config.source or "configuration"
    if not config.kiosk and not config.services:
        return None
    for key in config.kiosk:
        if key not in _KIOSK_KEYS:
            raise GatewayError(f"{source}: unknown key [kiosk] {key}; known: "
                               f"{', '.join(_KIOSK_KEYS)}")
    number = _str(config.kiosk, "number", f"{source}: [kiosk]", "3615")
    if not (number.isascii() and number.isdigit()):
        raise GatewayError(f"{source}: [kiosk] number {number!r}: digits only, like 3615")
    directory = Directory(number=number,
                          name=_str(config.kiosk, "name", f"{source}: [kiosk]", "TELETEL"),
                          plan=config.kiosk.get("plan"))
    if directory.plan is not None:
        _check_plan(directory.plan, plans, f"{source}: [kiosk] plan")
    base = Path(source).parent if config.source else Path(".")
    for i, table in enumerate(config.services):
        where = f"{source}: [[services]] #{i + 1}"
        entry = _entry(table, where, results, plans, base, number)
        try:
            directory.add(entry)
        except ValueError as e:
            raise GatewayError(f"{where}: {e}") from None
    return directory


def _check_plan(name: Any, plans: dict[str, Any] | None, where: str) -> Any:
    if not isinstance(name, str) or not name:
        raise GatewayError(f"{where}: must be the name of a tariff plan, not {name!r}")
    if plans is None:
        return None
    if name not in plans:
        raise GatewayError(f"{where}: no tariff plan named {name!r} (known: "
                           f"{', '.join(sorted(plans))})")
    return plans[name]


def _entry(table: dict[str, Any], where: str, results: Any, plans: dict[str, Any] | None,
           base: Path, number: str) -> ServiceEntry:
    for key in table:
        if key not in _SERVICE_KEYS:
            raise GatewayError(f"{where}: unknown key {key}; known: {', '.join(_SERVICE_KEYS)}")
    code = _str(table, "code", where)
    if normalise_code(code) != code:
        raise GatewayError(f"{where}: code {code!r}: uppercase letters and digits only "
                           "(what callers type after the kiosk's number)")
    where = f"{where} ({code})"
    kind = _str(table, "kind", where)
    if kind not in KINDS:
        raise GatewayError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
    plan_name = table.get("plan")
    plan = _check_plan(plan_name, plans, f"{where} plan") if plan_name is not None else None
    target: Any
    if kind == "results":
        target = results
    elif kind == "minipavi":
        target = _str(table, "url", where)
        if not valid_service_url(target):
            raise GatewayError(f"{where}: url {target!r} is not an http(s) URL")
    else:
        path = Path(_str(table, "path", where))
        target = load_pages(path if path.is_absolute() else base / path,
                            f"{number} {code}", where)
    name = table.get("name", code.capitalize())
    if not isinstance(name, str):
        raise GatewayError(f"{where}: name must be a string, not {name!r}")
    price = table.get("price", price_text(plan))
    return ServiceEntry(code, name, kind, target, plan_name, str(price))


def load_pages(path: Path, access_code: str, where: str) -> Any:
    """A page tree's service (``kind = "pages"``, ``serve --pages``)."""
    from videotex.pagetree import PageTreeError, PageTreeService, load_tree

    try:
        return PageTreeService(load_tree(path, optimize=False), access_code=access_code)
    except PageTreeError as e:
        raise GatewayError(f"{where}: {e}") from None


def background_work(directory: Directory | None) -> list[Callable[[], bool]]:
    """What the services of ``directory`` leave to do after loading: the page trees'
    optimizers. Each is a step function: one call makes one decision (a few
    milliseconds) and puts it in place, and says whether there is more; the server calls
    them from its event loop between other work (in one thread with the sessions, whose
    encoder tables the optimizer shares). The last step writes the tree's cache."""
    work: list[Callable[[], bool]] = []
    for entry in directory.entries.values() if directory is not None else ():
        tree = getattr(entry.target, "tree", None)
        optimizer = getattr(tree, "optimizer", None)
        if optimizer is not None and not optimizer.done:
            work.append(_optimize_step(entry.code, tree, optimizer))
    return work


def _optimize_step(code: str, tree: Any, optimizer: Any) -> Callable[[], bool]:
    def step() -> bool:
        try:
            more: bool = optimizer.step()
        except Exception:  # a bug: said here, and the pages left keep their original bytes
            log.exception("page tree optimizer failed",
                          extra={"service": code, "tree": str(tree.source)})
            return False
        if not more or optimizer.done:
            log.info("page tree optimized", extra={"service": code, "pages": optimizer.total})
            if optimizer.note:
                log.warning(optimizer.note, extra={"service": code})
            return False
        return True
    return step


def call_factory(start: str | None = None) -> Callable[..., GatewayCall]:
    """The switchboard's session factory at a gateway: a listener's ``start`` (its
    ``service`` option) or ``start`` here (``serve --minipavi``) leads straight to one
    service, where Connexion/Fin ends the call; otherwise the kiosk."""
    def make(directory: Directory, clock: Any, *, start: str | None = start,
             **kw: Any) -> GatewayCall:
        return GatewayCall(directory, clock, start=start, kiosk=start is None, **kw)
    return make
