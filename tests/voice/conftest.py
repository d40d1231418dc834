"""Voice tests: the phone tests' server (the ``sip`` listener in this process, billing in a
real ledger), and the real speech engine (espeak-ng) with a disk cache shared by the tests
of a run (its fixed prompts rendered once)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.phone.conftest import (  # noqa: F401  (fixtures for these tests)
    make_server,
    pytest_asyncio_loop_factories,
)
from videotex.channels.phone.voice import set_voice_speech
from videotex.voice.player_speech import PlayerSpeech
from videotex.voice.speech import Speech


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-cache")


@pytest.fixture
async def voice_speech(speech_cache: Path) -> AsyncIterator[PlayerSpeech]:
    """This test's speech for voice calls (a Speech is bound to its event loop)."""
    speech = PlayerSpeech(Speech(cache_dir=speech_cache))
    await speech.warm()
    set_voice_speech(speech)
    yield speech
    set_voice_speech(None)
    speech.close()
