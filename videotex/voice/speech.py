"""Speech for the voice channel: fixed prompts cached, call-time texts from a bounded pool.

Owns three things an event loop must not do itself:

- **Fixed prompts** (:class:`~videotex.voice.prompts.Prompt`) rendered once (at
  :meth:`Speech.warm` or first use) and kept for the life of the process as G.711 in both
  laws. With ``cache_dir`` they are also kept on disk, keyed by a hash of (engine, its
  version, voice, conditioning, text): a restart reads them back instead of synthesising.
  Only fixed prompts go to disk, never a candidate's name.
- **Call-time texts** (names, the official hour): synthesised by ``workers`` threads each
  running the engine's subprocess, at most ``workers + queue`` texts admitted at once.
  When that is full, :meth:`Speech.speak` *waits for a slot* unless the caller gave a
  ``fallback`` prompt, which it then returns at once (and also when the engine fails).
  Rendered texts stay in an LRU of ``lru_size`` (the same popular names all results day);
  callers asking for a text already being synthesised share that one run.
- **Spelling digits** from the cached digit prompts, never synthesised.

Invariants: no coroutine here blocks the loop (subprocess, resampling and G.711 encoding
all run in the pool's threads; the loop only looks up dicts and joins bytes); never more
than ``workers`` engine runs at once; :attr:`Speech.stats` is written on the loop's thread
only, apart from the running counters kept under a lock.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hashlib
import os
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from videotex.protocols.g711 import Law
from videotex.runtime import realtime

from .prompts import PROMPT_TEXTS, Prompt, Segment, digit_prompts
from .tts import CONDITIONING, ESPEAK_FR, RATE, Engine, TtsError, engine_version, render, to_g711

__all__ = ["FRAME_BYTES", "Source", "Speech", "SpeechStats", "Utterance"]

#: One RTP packet of G.711 at 20 ms.
FRAME_BYTES: Final = 160
_SILENCE: Final = {Law.ULAW: to_g711(np.zeros(1, np.int16), Law.ULAW),
                   Law.ALAW: to_g711(np.zeros(1, np.int16), Law.ALAW)}


class Source(enum.Enum):
    """Where an utterance came from (tests and stats read it)."""

    SYNTH = "synth"  #: synthesised for this call
    DISK = "disk"  #: a fixed prompt read back from the disk cache
    CACHE = "cache"  #: already in memory (a prompt, or a text in the LRU)
    FALLBACK = "fallback"  #: the caller's fallback prompt: no slot, or the engine failed
    JOINED = "joined"  #: several utterances said in a row


@dataclass(frozen=True, eq=False)
class Utterance:
    """Speech ready for a call: 8 kHz int16 ``pcm`` and its G.711 bytes in both laws."""

    text: str
    pcm: npt.NDArray[np.int16]
    ulaw: bytes
    alaw: bytes
    source: Source = Source.SYNTH

    @classmethod
    def of(cls, text: str, pcm: npt.NDArray[np.int16], source: Source = Source.SYNTH) -> Utterance:
        """An utterance of ``pcm``, encoded in both laws (numpy: a worker's job)."""
        return cls(text, pcm, to_g711(pcm, Law.ULAW), to_g711(pcm, Law.ALAW), source)

    def as_source(self, source: Source) -> Utterance:
        return Utterance(self.text, self.pcm, self.ulaw, self.alaw, source)

    @property
    def seconds(self) -> float:
        return self.pcm.size / RATE

    def payload(self, law: Law) -> bytes:
        """The G.711 bytes in ``law``."""
        return self.ulaw if law is Law.ULAW else self.alaw

    def frames(self, law: Law, size: int = FRAME_BYTES) -> Iterator[bytes]:
        """RTP payloads of ``size`` bytes; the last is padded with silence."""
        data = self.payload(law)
        for start in range(0, len(data), size):
            chunk = data[start:start + size]
            yield chunk if len(chunk) == size else chunk + _SILENCE[law] * (size - len(chunk))

    @classmethod
    def join(cls, parts: Iterable[Utterance], gap_ms: int = 150) -> Utterance:
        """``parts`` said in a row with ``gap_ms`` of silence between them."""
        items = list(parts)
        gap = RATE * gap_ms // 1000
        pcm: list[npt.NDArray[np.int16]] = []
        ulaw, alaw = bytearray(), bytearray()
        for i, u in enumerate(items):
            if i:
                pcm.append(np.zeros(gap, np.int16))
                ulaw += _SILENCE[Law.ULAW] * gap
                alaw += _SILENCE[Law.ALAW] * gap
            pcm.append(u.pcm)
            ulaw += u.ulaw
            alaw += u.alaw
        joined = np.concatenate(pcm) if pcm else np.zeros(0, np.int16)
        return cls(" ".join(u.text for u in items), joined, bytes(ulaw), bytes(alaw),
                   Source.JOINED)


@dataclass
class SpeechStats:
    """What the speech layer did since it started (read it; only :class:`Speech` writes)."""

    #: Texts found in memory: a fixed prompt, or a text in the LRU.
    hits: int = 0
    #: Texts that had to be rendered (synthesised, or read from the disk cache).
    misses: int = 0
    #: Callers who shared a synthesis already running for the same text.
    coalesced: int = 0
    #: Fixed prompts read back from the disk cache instead of synthesised.
    disk_hits: int = 0
    #: Engine runs, and their wall time in the worker (seconds), in all and the longest.
    syntheses: int = 0
    synth_seconds: float = 0.0
    synth_max: float = 0.0
    #: The last texts synthesised and their times (seconds): the cost per text.
    recent: deque[tuple[str, float]] = field(default_factory=lambda: deque(maxlen=256))
    #: Callers who found no free slot or worker and waited; the total and the longest time
    #: from asking to the worker starting, for every caller (seconds).
    queue_waits: int = 0
    queue_wait_seconds: float = 0.0
    queue_wait_max: float = 0.0
    #: Fallback prompts said instead of a text (pool full, or engine failed).
    fallbacks: int = 0
    #: Engine failures, and the last one's message.
    failures: int = 0
    last_error: str = ""
    #: Engine runs at this moment, and the most there ever were at once.
    running: int = 0
    peak_running: int = 0
    #: Texts admitted (running or waiting for a worker), and the most at once.
    admitted: int = 0
    peak_admitted: int = 0

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses + self.coalesced
        return (self.hits + self.coalesced) / asked if asked else 0.0


#: A renderer: text -> 8 kHz int16 speech (blocking; run in the pool's threads).
Renderer = Callable[[str], npt.NDArray[np.int16]]


class Speech:
    """The voice channel's speech for one process (see the module docstring).

    ``renderer`` replaces the engine run (tests count calls through it); ``cache_dir``
    keeps fixed prompts across restarts. Call :meth:`close` (or ``async with``) at the end.
    """

    def __init__(self, engine: Engine = ESPEAK_FR, *, workers: int = 2, queue: int = 32,
                 lru_size: int = 1024, cache_dir: str | os.PathLike[str] | None = None,
                 gap_ms: int = 150, renderer: Renderer | None = None) -> None:
        if workers < 1 or queue < 0 or lru_size < 0:
            raise ValueError(f"Speech: workers must be >= 1 and queue, lru_size >= 0; got "
                             f"workers={workers}, queue={queue}, lru_size={lru_size}")
        self.engine = engine
        self.workers = workers
        self.capacity = workers + queue
        self.lru_size = lru_size
        self.gap_ms = gap_ms
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.stats = SpeechStats()
        self._render: Renderer = renderer or (lambda text: render(engine, text))
        # (at the audio's priority when it has one: a thread holding the GIL must not wait)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"tts-{engine.name}",
                                        initializer=realtime.join)
        self._slots = asyncio.Semaphore(self.capacity)
        self._lock = threading.Lock()
        self._prompts: dict[Prompt, Utterance] = {}
        self._by_text = {text: p for p, text in PROMPT_TEXTS.items()}
        self._lru: OrderedDict[str, Utterance] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Utterance]] = {}
        self._closed = False

    async def __aenter__(self) -> Speech:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (texts not started yet are dropped)."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- fixed prompts ---------------------------------------------------------------------

    async def warm(self, prompts: Iterable[Prompt] = Prompt) -> None:
        """Render every fixed prompt now (from the disk cache when it has them)."""
        await asyncio.gather(*(self.prompt(p) for p in prompts))

    async def prompt(self, prompt: Prompt) -> Utterance:
        """A fixed prompt, rendered on first use and kept."""
        cached = self._prompts.get(prompt)
        if cached is not None:
            self.stats.hits += 1
            return cached.as_source(Source.CACHE)
        return await self._get(prompt.text, prompt=prompt)

    def cached(self, prompt: Prompt) -> Utterance:
        """A fixed prompt already rendered (after :meth:`warm`), without awaiting."""
        try:
            return self._prompts[prompt]
        except KeyError:
            raise KeyError(f"prompt {prompt.value!r} is not rendered yet: await "
                           "Speech.warm() (or Speech.prompt()) first") from None

    # -- call-time texts -------------------------------------------------------------------

    async def speak(self, text: str, *, fallback: Prompt | None = None) -> Utterance:
        """``text`` spoken, from memory or synthesised in the pool.

        When ``workers + queue`` texts are already admitted: with ``fallback=None`` the
        caller waits for a slot; with a fallback prompt it gets that prompt at once
        (``source`` is :attr:`Source.FALLBACK`), as it does when the engine fails.
        Without a fallback an engine failure raises :class:`TtsError`."""
        prompt = self._by_text.get(text)
        if prompt is not None:
            return await self.prompt(prompt)
        cached = self._lru.get(text)
        if cached is not None:
            self._lru.move_to_end(text)
            self.stats.hits += 1
            return cached.as_source(Source.CACHE)
        if fallback is not None and text not in self._inflight and self._slots.locked():
            self.stats.fallbacks += 1
            return (await self.prompt(fallback)).as_source(Source.FALLBACK)
        try:
            return await self._get(text)
        except TtsError:
            if fallback is None:
                raise
            self.stats.fallbacks += 1
            return (await self.prompt(fallback)).as_source(Source.FALLBACK)

    async def say(self, segments: Iterable[Segment]) -> Utterance:
        """Segments said in a row (prompts from the cache, dynamic texts through
        :meth:`speak` with their own fallbacks), rendered concurrently."""
        parts = await asyncio.gather(*(
            self.prompt(s) if isinstance(s, Prompt) else self.speak(s.text, fallback=s.fallback)
            for s in segments))
        return Utterance.join(parts, self.gap_ms)

    async def spell(self, digits: str) -> Utterance:
        """``digits`` said one by one from the cached digit prompts (no synthesis)."""
        parts = await asyncio.gather(*(self.prompt(p) for p in digit_prompts(digits)))
        return Utterance.join(parts, gap_ms=self.gap_ms // 2)

    # -- the pool --------------------------------------------------------------------------

    async def _get(self, text: str, *, prompt: Prompt | None = None) -> Utterance:
        """From the run already under way for ``text``, or a new one. The run is a task
        of its own: a caller who hangs up (is cancelled) does not cancel it for others."""
        task = self._inflight.get(text)
        if task is not None:
            self.stats.coalesced += 1
            return (await asyncio.shield(task)).as_source(Source.CACHE)
        if self._closed:
            raise RuntimeError("Speech is closed: no more texts can be rendered")
        self.stats.misses += 1
        task = asyncio.ensure_future(self._produce(text, prompt))
        self._inflight[text] = task
        task.add_done_callback(functools.partial(self._finished, text))
        return await asyncio.shield(task)

    def _finished(self, text: str, task: asyncio.Future[Utterance]) -> None:
        if self._inflight.get(text) is task:
            del self._inflight[text]
        if not task.cancelled():
            task.exception()  # seen: no "never retrieved" log when every caller left

    async def _produce(self, text: str, prompt: Prompt | None) -> Utterance:
        utterance = await self._run(text, prompt)
        if prompt is not None:
            self._prompts[prompt] = utterance
        elif self.lru_size:
            self._lru[text] = utterance
            if len(self._lru) > self.lru_size:
                self._lru.popitem(last=False)
        return utterance

    async def _run(self, text: str, prompt: Prompt | None) -> Utterance:
        asked = time.perf_counter()
        stats = self.stats
        queued = self._slots.locked()  # no slot: this caller waits for one
        async with self._slots:
            queued = queued or stats.admitted >= self.workers  # or for a worker
            stats.admitted += 1
            stats.peak_admitted = max(stats.peak_admitted, stats.admitted)
            try:
                job = asyncio.get_running_loop().run_in_executor(
                    self._pool, self._work, text, prompt is not None)
                utterance, started, took = await job
            finally:
                stats.admitted -= 1
        wait = started - asked
        stats.queue_waits += queued
        stats.queue_wait_seconds += wait
        stats.queue_wait_max = max(stats.queue_wait_max, wait)
        if utterance.source is Source.DISK:
            stats.disk_hits += 1
        else:
            stats.syntheses += 1
            stats.synth_seconds += took
            stats.synth_max = max(stats.synth_max, took)
            stats.recent.append((text, took))
        return utterance

    def _work(self, text: str, keep: bool) -> tuple[Utterance, float, float]:
        """In a worker thread: the disk cache (``keep``: a fixed prompt), else the engine;
        then both G.711 laws."""
        started = time.perf_counter()
        disk = self._disk_path(text) if keep else None
        if disk is not None and disk.exists():
            pcm = np.fromfile(disk, dtype="<i2").astype(np.int16)
            if pcm.size:
                return Utterance.of(text, pcm, Source.DISK), started, 0.0
        with self._lock:
            self.stats.running += 1
            self.stats.peak_running = max(self.stats.peak_running, self.stats.running)
        try:
            pcm = self._render(text)
        except TtsError as exc:
            with self._lock:
                self.stats.failures += 1
                self.stats.last_error = str(exc)
            raise
        finally:
            with self._lock:
                self.stats.running -= 1
        took = time.perf_counter() - started
        if disk is not None:
            tmp = disk.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            pcm.astype("<i2").tofile(tmp)
            os.replace(tmp, disk)  # whole or absent: a crash never leaves half a prompt
        return Utterance.of(text, pcm), started, took

    def _disk_path(self, text: str) -> Path | None:
        """The file of a fixed prompt in the disk cache (blocking: the engine's version)."""
        if self.cache_dir is None:
            return None
        key = "\x1f".join((self.engine.name, engine_version(self.engine), self.engine.voice,
                           " ".join(self.engine.argv), CONDITIONING, text))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        return self.cache_dir / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".s16")
