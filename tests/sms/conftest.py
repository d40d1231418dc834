"""The SMS channel against a real SMSC: the node-smpp simulator (``smsc.py``), our engine
and link, a results store of its own (bac Paris publishes during a test), a real
billing ledger, all in a temp folder."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pages import ResultsService, ServiceConfig
from tests.helpers.results import NOW, PARIS_HOUR, build_store
from videotex.billing import Ledger, TariffBook
from videotex.store import ResultsStore, publish_batch
from videotex.teletel import FakeClock

from .smsc import Smsc, smsc_running


@dataclass
class SmsRig:
    """One server's SMS side: ``engine`` and ``link`` bound to ``smsc``."""

    smsc: Smsc
    store_dir: Path
    clock: FakeClock
    results: ResultsService
    ledger: Ledger
    engine: Any
    link: Any
    task: asyncio.Task[None]

    async def publish_paris(self) -> None:
        """bac Paris comes out: the clock moves to its hour, the batch is published."""
        self.clock.advance((PARIS_HOUR - self.clock.wall()).total_seconds() + 60)
        key = (self.store_dir.parent / "bac-paris.key").read_bytes()
        publish_batch(self.store_dir, "bac", "paris", key, now=self.clock.wall())

    def records(self) -> list[Any]:
        self.ledger.flush()
        return [r for r in self.ledger.records() if r.channel == "sms"]

    async def stop(self) -> None:
        await self.link.stop()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.engine.drain()
        self.engine.store.close()


MakeRig = Callable[..., Awaitable[SmsRig]]


@pytest.fixture
async def smsc() -> AsyncIterator[Smsc]:
    async with smsc_running() as s:
        yield s


@pytest.fixture
async def make_rig(tmp_path: Path, smsc: Smsc) -> AsyncIterator[MakeRig]:
    store_dir = build_store(tmp_path)
    ledger = Ledger(tmp_path / "billing", batch_interval=0.001)
    rigs: list[SmsRig] = []

    async def make(**smpp: Any) -> SmsRig:
        from videotex.sms.setup import build_sms

        clock = FakeClock(NOW)
        results = ResultsService(ResultsStore(store_dir), ServiceConfig())
        table = {"url": smsc.url, "enquire_every": 5, **smpp}
        book = TariffBook.from_config({})
        engine, link = build_sms(table, results, clock, tmp_path / "sms", ledger=ledger,
                                 plans=book.plans)
        link.backoff = (0.05, 0.2)
        task = asyncio.get_running_loop().create_task(link.run())
        await asyncio.wait_for(link.bound.wait(), 10)
        rig = SmsRig(smsc, store_dir, clock, results, ledger, engine, link, task)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        await rig.stop()
    ledger.close()


def later(clock: FakeClock, minutes: float) -> None:
    clock.advance(timedelta(minutes=minutes).total_seconds())
