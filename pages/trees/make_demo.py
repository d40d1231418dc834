"""Write the ``.vdt`` pages of the demo page tree (``pages/trees/demo``).

Run: ``.venv/bin/python pages/trees/make_demo.py [DIR]`` (default: the ``demo`` folder
beside this script). Each page is drawn with the codec's :class:`~videotex.codec.Frame`
and written as :func:`~videotex.codec.encode_frame` draws it: what a page editor would
save. ``tree.toml`` is written by hand (it is the example of docs/page-trees.md); the
fields it declares are drawn by the service, so the pages only carry their labels.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from videotex.codec import Color, Frame, Size, encode_frame

__all__ = ["PAGES", "main", "write_pages"]

DEMO = Path(__file__).resolve().parent / "demo"


def _band(f: Frame, title: str, bg: Color = Color.BLUE) -> None:
    for row in (1, 2, 3):
        f.fill(row, 1, 40, bg=bg)
    f.text(3, 2, title, fg=Color.YELLOW, bg=bg, size=Size.DOUBLE)
    f.text(3, 30, "3615 DEMO", fg=Color.WHITE, bg=bg)


def _key(f: Frame, row: int, col: int, what: str, key: str) -> None:
    col = f.text(row, col, what + " ", fg=Color.CYAN)
    f.text(row, col, key, inverse=True)


def menu() -> Frame:
    f = Frame()
    _band(f, "BIENVENUE")
    f.text(6, 2, "Le service de démonstration des", fg=Color.WHITE)
    f.text(7, 2, "arbres de pages : rien que des pages", fg=Color.WHITE)
    f.text(8, 2, "et un fichier tree.toml.", fg=Color.WHITE)
    f.hline(10, 2, 38, fg=Color.BLUE)
    f.text(12, 4, "1", fg=Color.YELLOW, size=Size.WIDE)
    f.text(12, 8, "La météo du jour")
    f.text(14, 4, "2", fg=Color.YELLOW, size=Size.WIDE)
    f.text(14, 8, "Nous écrire")
    f.hline(16, 2, 38, fg=Color.BLUE)
    f.text(20, 2, "Votre choix :", fg=Color.GREEN)
    _key(f, 20, 22, "puis", "ENVOI")
    _key(f, 24, 2, "Aide", "GUIDE")
    return f


def meteo() -> Frame:
    f = Frame()
    _band(f, "METEO", bg=Color.CYAN)
    rows = (("Nord", "nuageux", "14°"), ("Bretagne", "averses", "15°"),
            ("Paris", "éclaircies", "18°"), ("Lyon", "soleil", "22°"),
            ("Marseille", "soleil", "26°"))
    for i, (where, sky, temp) in enumerate(rows):
        row = 6 + 2 * i
        f.text(row, 2, where, fg=Color.CYAN)
        f.text(row, 16, sky)
        f.text(row, 34, temp, fg=Color.YELLOW)
    f.mosaics(17, 30, [0b111111] * 4, fg=Color.YELLOW)
    f.mosaics(18, 30, [0b111111] * 4, fg=Color.YELLOW)
    _key(f, 24, 2, "Menu", "SOMMAIRE")
    _key(f, 24, 20, "Revenir", "RETOUR")
    return f


def contact() -> Frame:
    f = Frame()
    _band(f, "NOUS ECRIRE", bg=Color.MAGENTA)
    f.text(6, 2, "Laissez votre code postal et votre nom,")
    f.text(7, 2, "nous vous enverrons notre catalogue.")
    f.text(10, 2, "Code postal :", fg=Color.CYAN)
    f.text(12, 2, "Nom         :", fg=Color.CYAN)
    _key(f, 15, 2, "Champ suivant", "SUITE")
    _key(f, 16, 2, "Corriger", "CORRECTION")
    _key(f, 20, 2, "Pour valider", "ENVOI")
    _key(f, 24, 2, "Menu", "SOMMAIRE")
    return f


def merci() -> Frame:
    f = Frame()
    _band(f, "MERCI", bg=Color.GREEN)
    f.text(8, 2, "Votre demande est enregistrée.", size=Size.TALL)
    f.text(11, 2, "Le catalogue part demain.")
    _key(f, 24, 2, "Retour au menu", "ENVOI")
    return f


def aide() -> Frame:
    f = Frame()
    _band(f, "AIDE", bg=Color.RED)
    lines = ("Tapez le numéro d'une rubrique puis", "ENVOI. Dans un formulaire, SUITE",
             "passe au champ suivant, CORRECTION", "efface un caractère.", "",
             "SOMMAIRE ramène au menu à tout moment;", "CONNEXION/FIN termine l'appel.")
    for i, line in enumerate(lines):
        f.text(6 + i, 2, line)
    _key(f, 24, 2, "Revenir", "RETOUR")
    return f


#: The demo's pages, by file name.
PAGES: dict[str, Callable[[], Frame]] = {
    "menu.vdt": menu,
    "meteo.vdt": meteo,
    "contact.vdt": contact,
    "merci.vdt": merci,
    "aide.vdt": aide,
}


def write_pages(folder: Path) -> list[Path]:
    """Write every page of the demo into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in PAGES.items():
        path = folder / name
        path.write_bytes(encode_frame(draw()))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else DEMO
    for path in write_pages(folder):
        print(f"{path}: {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
