"""The Teletel pages of the exam-results service (3615 EXAMENS).

- ``layout``  shared drawing: title band, key hints, message row
- ``home``    the home page and its form (number, Suite, birth date, Envoi)
- ``result``  a candidate's result; not-found and not-yet-published pages
- ``menu``    Sommaire: exams and their publication status; search by name
- ``info``    help (Guide) and goodbye
- ``service`` the service object the session engine talks to
"""

from __future__ import annotations

from .service import ResultsService, ServiceConfig

__all__ = ["ResultsService", "ServiceConfig"]
