"""A caller on the results service: the home page form, filled in as a person would."""

from __future__ import annotations

from terminal_emu import Key
from terminal_emu.client import MinitelClient

__all__ = ["at_home", "consult", "elodies_result_then_goodbye", "send_form"]


async def at_home(t: MinitelClient, timeout: float = 10.0) -> None:
    """Wait for the home page, its cursor in the number field."""
    await t.wait_for_text("RESULTATS DES EXAMENS", timeout=timeout)
    await t.wait_for(lambda c: c.minitel.cursor == (10, 15), timeout, "cursor in number field")


async def send_form(t: MinitelClient, numero: str, birth: str, timeout: float = 10.0) -> None:
    """From the home page: the number, Suite, the birth date (echoed), Envoi."""
    await t.type(numero)
    await t.press(Key.SUITE)
    await t.type(birth)
    await t.wait_for(lambda c: birth in c.text, timeout, "birth date echoed")
    await t.press(Key.ENVOI)


async def consult(url: str, numero: str, birth: str) -> MinitelClient:
    """Connect to ``url`` and look a candidate up; the caller stays on the line."""
    t = await MinitelClient.connect(url)
    await at_home(t)
    await send_form(t, numero, birth)
    return t


async def elodies_result_then_goodbye(t: MinitelClient) -> None:
    """Élodie's result (admitted, with honours, her lycée), then Connexion/Fin: the
    goodbye page and the line closed by the server."""
    await t.wait_for_text("Mention Très bien")
    assert t.shows("ADMIS")
    assert "Lycée Faidherbe" in t.text
    await t.press(Key.CONNEXION_FIN)
    await t.wait_for_text("AU REVOIR")
    await t.wait_closed()
    assert t.closed
