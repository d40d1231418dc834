"""Synthetic results for demos and benchmarks (``videotex demo-data``).

Writes one sealed file per exam × académie with its key, following the 2005
figures of the domain reference: 2.25 million results by default (bac about
482,000 général/techno + 128,000 bac pro, anticipés 490,000, CAP+BEP+BTS
900,000, brevet the rest), 80 % of bac admitted (Rennes highest, Créteil
lowest), 36 % of those with a mention, séries S/ES/L 51/32/17 % of général,
Versailles the largest académie. French names with accents, compound names
and deliberate homonyms; about 90 % consent to publication by name.

The rows are deterministic for a seed (each batch draws from its own
``Random(seed, exam, académie)``, so worker scheduling does not matter); keys
and nonces are always fresh random values.
"""

from __future__ import annotations

import datetime
import os
import random
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from .exams import ACADEMIES, EXAMS, batch_prefix, mention_allowed
from .sealed import generate_key, seal_bytes, write_key

__all__ = ["DEFAULT_COUNT", "EXAM_SHARES", "batch_sizes", "generate_batch", "write_demo_data"]

DEFAULT_COUNT = 2_250_000

#: Share of the 2.25 M results per exam (domain reference, 2005).
EXAM_SHARES: dict[str, float] = {
    "bac": 482_374 / DEFAULT_COUNT,
    "bac-pro": 128_226 / DEFAULT_COUNT,
    "anticipes": 490_000 / DEFAULT_COUNT,
    "brevet": 249_400 / DEFAULT_COUNT,
    "cap": 380_000 / DEFAULT_COUNT,
    "bep": 330_000 / DEFAULT_COUNT,
    "bts": 190_000 / DEFAULT_COUNT,
}

#: Relative académie sizes (candidates), Versailles largest; Limoges, Corse, Guyane small.
ACADEMY_WEIGHTS: dict[str, float] = {
    "aix-marseille": 5.3, "amiens": 3.0, "besancon": 1.8, "bordeaux": 4.6, "caen": 2.3,
    "clermont-ferrand": 1.9, "corse": 0.4, "creteil": 7.0, "dijon": 2.4, "grenoble": 5.0,
    "lille": 6.8, "limoges": 1.1, "lyon": 5.2, "montpellier": 3.9, "nancy-metz": 3.9,
    "nantes": 5.3, "nice": 3.2, "orleans-tours": 3.9, "paris": 4.4, "poitiers": 2.6,
    "reims": 2.2, "rennes": 4.7, "rouen": 3.0, "strasbourg": 2.9, "toulouse": 4.5,
    "versailles": 9.5, "guadeloupe": 1.0, "guyane": 0.4, "martinique": 0.8, "la-reunion": 2.0,
}

#: Bac admission rate shifts per académie (Rennes highest, Créteil lowest).
_RATE_SHIFT = {"rennes": 0.05, "creteil": -0.07, "versailles": 0.02, "paris": 0.02,
               "guyane": -0.08, "corse": -0.03, "lille": -0.03, "nantes": 0.03}

SURNAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefèbvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau",
    "Blanc", "Guérin", "Müller", "Henry", "Roussel", "Nicolas", "Perrin", "Morin", "Mathieu",
    "Clément", "Gauthier", "Dumont", "Lopez", "Fontaine", "Chevalier", "Robin", "Masson",
    "Sánchez", "Gérard", "Nguyen", "Boyer", "Denis", "Lemaire", "Duval", "Joly", "Gautier",
    "Roger", "Roche", "Roy", "Noël", "Meyer", "Lucas", "Meunier", "Jean", "Pérez", "Marchand",
    "Dufour", "Blanchard", "Marie", "Barbier", "Brun", "Dumas", "Brunet", "Schmitt", "Leroux",
    "Colin", "Fernandez", "Pierre", "Renard", "Arnaud", "Rolland", "Caron", "Aubert", "Giraud",
    "Leclerc", "Vidal", "Bourgeois", "Renaud", "Lemoine", "Picard", "Gaillard", "Philippe",
    "Leclercq", "Lacroix", "Fabre", "Dupuis", "Olivier", "Rodriguez", "Da Silva", "Hubert",
    "Louis", "Charles", "Guillot", "Rivière", "Le Gall", "Guillaume", "Adam", "Rey", "Moulin",
    "Gonçalves", "Besnard", "Lebrun", "Hoarau", "Payet", "Grondin", "Jean-Baptiste", "Bézier",
    "Château", "Benoît", "Hervé", "Lefèvre-Dupré", "Saint-Just", "D'Angelo", "N'Diaye",
    "Ménard", "Loïc", "Boëlle", "Daguerre", "Étienne", "Éluard", "Ollivier", "Cœur",
)
FIRST_F = (
    "Marie", "Camille", "Léa", "Manon", "Chloé", "Laura", "Julie", "Sarah", "Pauline", "Mathilde",
    "Émilie", "Anaïs", "Élodie", "Océane", "Marine", "Lucie", "Clémence", "Justine", "Céline",
    "Hélène", "Inès", "Zoé", "Maëlle", "Héloïse", "Noémie", "Aurélie", "Mélanie", "Gaëlle",
    "Anne-Sophie", "Marie-Ève", "Françoise", "Agnès", "Bérénice", "Chloë", "Solène", "Joséphine",
)
FIRST_M = (
    "Thomas", "Nicolas", "Julien", "Maxime", "Alexandre", "Kevin", "Romain", "Quentin",
    "Antoine", "Guillaume", "Hugo", "Lucas", "Théo", "Clément", "Benoît", "Jérémy", "Loïc",
    "Anthony", "François", "Jérôme", "Cédric", "Sébastien", "Adrien", "Mathéo", "Raphaël",
    "Noé", "Gaël", "Joël", "Jean-Pierre", "Pierre-Louis", "Jean-Baptiste", "Frédéric",
    "Stéphane", "Valentin", "Aurélien", "Ismaël",
)
SCHOOL_NAMES = (
    "Jean-Moulin", "Victor-Hugo", "Jules-Ferry", "Marie-Curie", "Louis-Pasteur", "Voltaire",
    "Condorcet", "Jean-Jaurès", "Charles-de-Gaulle", "Montesquieu", "Émile-Zola", "Descartes",
    "Camille-Claudel", "Albert-Camus", "Henri-IV", "Hoche", "Lakanal", "Janson-de-Sailly",
    "Fénelon", "Chateaubriand", "La Fontaine", "Jacques-Prévert", "George-Sand", "Molière",
)
_BAC_SERIES = (("S", 0.53 * 0.51), ("ES", 0.53 * 0.32), ("L", 0.53 * 0.17), ("STG", 0.26 * 0.45),
               ("STI", 0.26 * 0.25), ("STL", 0.26 * 0.07), ("SMS", 0.26 * 0.12),
               ("Hôtellerie", 0.26 * 0.04), ("TMD", 0.26 * 0.02), ("STAE", 0.26 * 0.05))
_BAC_TOTAL = sum(w for _, w in _BAC_SERIES)
_SPECIALITES = {
    "bac-pro": ("Commerce", "Comptabilité", "Secrétariat", "Électrotechnique", "Maintenance des "
                "équipements industriels", "Restauration", "Vente", "Métiers de la mode"),
    "anticipes": ("L", "ES", "S", "STG", "STI", "STL", "SMS"),
    "brevet": ("Collège", "Technologique", "Professionnelle"),
    "cap": ("Petite enfance", "Cuisine", "Coiffure", "Boulanger", "Électricien", "Menuisier",
            "Pâtissier", "Maçon", "Vente"),
    "bep": ("Métiers du secrétariat", "Vente action marchande", "Électronique",
            "Carrières sanitaires et sociales", "Hôtellerie-restauration", "Bois et matériaux"),
    "bts": ("Assistant de gestion PME-PMI", "Informatique de gestion", "Commerce international",
            "Tourisme", "Électrotechnique", "Négociation relation client", "Comptabilité"),
}
_AGE = {"bac": 18, "bac-pro": 19, "anticipes": 17, "brevet": 15, "cap": 17, "bep": 17, "bts": 20}
#: (admitted, second groupe) rates; the rest ajourné.
_RATES = {"bac": (0.72, 0.16), "bac-pro": (0.77, 0.0), "brevet": (0.79, 0.0),
          "cap": (0.81, 0.0), "bep": (0.74, 0.0), "bts": (0.64, 0.0)}
_MENTION_RATE = {"bac": 0.36 * 0.80 / 0.72, "bac-pro": 0.30, "brevet": 0.40}
HEADER = "numero,nom,prenom,naissance,serie,resultat,mention,publication,etablissement,jury\n"


def batch_sizes(count: int) -> dict[tuple[str, str], int]:
    """Rows per (exam, académie) for ``count`` results in all (at least 1 each)."""
    total_weight = sum(ACADEMY_WEIGHTS.values())
    sizes = {}
    for exam, share in EXAM_SHARES.items():
        for academie, weight in ACADEMY_WEIGHTS.items():
            sizes[exam, academie] = max(1, round(count * share * weight / total_weight))
    return sizes


def _dates(year: int) -> list[str]:
    start = datetime.date(year, 1, 1)
    return [(start + datetime.timedelta(days=i)).isoformat() for i in range(365)]


def generate_batch(exam: str, academie: str, rows: int, session: int, seed: int) -> str:
    """The CSV text of one synthetic batch (deterministic for the arguments)."""
    rng = random.Random(f"{seed}:{exam}:{academie}")
    rnd = rng.random
    prefix = batch_prefix(exam, academie)
    age = _AGE[exam]
    years = [_dates(session - age), _dates(session - age - 1), _dates(session - age + 1),
             _dates(session - age - 3)]
    admitted, second = _RATES.get(exam, (0.0, 0.0))
    if exam == "bac":
        admitted += _RATE_SHIFT.get(academie, 0.0)
    mentions = mention_allowed(exam, session)
    m_rate = _MENTION_RATE.get(exam, 0.0)
    series = _SPECIALITES.get(exam)
    schools = [f"{'Collège' if exam == 'brevet' else 'Lycée'} {s}"
               for s in rng.sample(SCHOOL_NAMES, 8)]
    choice = rng.choice
    out = [HEADER]
    serial = rng.randint(1, 5000)
    previous: list[tuple[str, str]] = []
    for _ in range(rows):
        serial += 1 if rnd() < 0.8 else rng.randint(2, 9)
        if previous and rnd() < 0.03:  # a deliberate homonym
            nom, prenom = choice(previous)
        else:
            nom = choice(SURNAMES)
            if rnd() < 0.03:
                nom = f"{nom}-{choice(SURNAMES)}"
            prenom = choice(FIRST_F if rnd() < 0.52 else FIRST_M)
            if len(previous) < 64:
                previous.append((nom, prenom))
        r = rnd()
        naissance = choice(years[0] if r < 0.75 else years[1] if r < 0.9 else
                           years[2] if r < 0.97 else years[3])
        if exam == "bac":
            r = rnd() * _BAC_TOTAL
            serie = next((s for s, w in _BAC_SERIES if (r := r - w) < 0), "S")
        else:
            serie = choice(series)  # type: ignore[arg-type]
        mention = ""
        if exam == "anticipes":
            resultat = "notes"
        else:
            r = rnd()
            if r < admitted:
                resultat = "admis"
                if mentions and rnd() < m_rate:
                    m = rnd()
                    mention = "AB" if m < 0.56 else "B" if m < 0.86 else "TB"
            elif r < admitted + second:
                resultat = "second groupe"
            else:
                resultat = "ajourné"
        consent = "oui" if rnd() < 0.9 else "non"
        out.append(f"{prefix}{serial:07d},{nom},{prenom},{naissance},{serie},{resultat},"
                   f"{mention},{consent},{choice(schools)},J{rng.randint(1, 99):02d}\n")
    return "".join(out)


def _write_batch(job: tuple[str, str, int, int, int, str, bool]) -> tuple[str, str, int]:
    exam, academie, rows, session, seed, out, keep_csv = job
    text = generate_batch(exam, academie, rows, session, seed)
    data = text.encode()
    key = generate_key()
    name = f"{exam}-{academie}"
    sealed = seal_bytes(data, key, exam=exam, academie=academie, session=session, rows=rows,
                        source=f"{name}.csv")
    base = Path(out)
    write_key(base / "keys" / f"{name}.key", key)
    (base / f"{name}.sealed").write_bytes(sealed)
    if keep_csv:
        (base / "csv" / f"{name}.csv").write_bytes(data)
    return exam, academie, rows


def write_demo_data(out: str | os.PathLike[str], count: int = DEFAULT_COUNT, seed: int = 2005,
                    session: int = 2005, keep_csv: bool = False, workers: int | None = None,
                    on_batch: Callable[[str, str, int], None] | None = None) -> int:
    """Write every batch's sealed file and key under ``out``; return the rows written."""
    if count < 1:
        raise ValueError(f"count must be positive, got {count}")
    base = Path(out)
    (base / "keys").mkdir(parents=True, exist_ok=True)
    os.chmod(base / "keys", 0o700)
    if keep_csv:
        (base / "csv").mkdir(exist_ok=True)
    sizes = batch_sizes(count)
    jobs = sorted(((e, a, n, session, seed, str(base), keep_csv) for (e, a), n in sizes.items()),
                  key=lambda j: -j[2])
    total = 0
    workers = workers or os.cpu_count() or 1
    if workers == 1 or count < 50_000:
        results = map(_write_batch, jobs)
        for exam, academie, rows in results:
            total += rows
            if on_batch:
                on_batch(exam, academie, rows)
        return total
    with ProcessPoolExecutor(workers) as pool:
        for exam, academie, rows in pool.map(_write_batch, jobs):
            total += rows
            if on_batch:
                on_batch(exam, academie, rows)
    return total


assert set(ACADEMY_WEIGHTS) == set(ACADEMIES) and set(EXAM_SHARES) == set(EXAMS)
