"""Asterisk's AudioSocket into the same modem bank. Asterisk cannot run here: a fake peer
plays its part on the wire (UUID frame, then 20 ms frames of 16-bit linear audio both ways),
with the Minitel's originate modem and the independent emulator behind it."""

from __future__ import annotations

import asyncio
import uuid
from collections import deque

import numpy as np
import pytest

from terminal_emu import Key, Minitel
from tests.helpers.results import ELODIE
from videotex.protocols.audiosocket import Frame, FrameReader, Kind, encode_frame
from videotex.protocols.v23 import CarrierLost, Data, OriginateModem

from .conftest import MakeServer

pytestmark = pytest.mark.timeout(120)

#: The dialplan of docs/phone.md writes the caller's number into the UUID.
CALLER_UUID = uuid.UUID("00000000-0000-4000-8000-ff0320123456")


class FakeAsterisk:
    """One call handed over by ``AudioSocket(uuid,host:port)``: audio every 20 ms."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.modem = OriginateModem()
        self.minitel = Minitel()
        self.frames: deque[bytes] = deque()
        self.got: list[Frame] = []
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self._tasks = [asyncio.ensure_future(self._read()), asyncio.ensure_future(self._tick())]

    @classmethod
    async def call(cls, port: int, call_uuid: uuid.UUID) -> FakeAsterisk:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(encode_frame(Kind.UUID, call_uuid.bytes))
        return cls(reader, writer)

    async def _read(self) -> None:
        frames = FrameReader()
        while data := await self.reader.read(65536):
            for frame in frames.feed(data):
                self.got.append(frame)
                if frame.kind == Kind.AUDIO:
                    self.frames.append(frame.payload)
        self.closed.set()
        self.changed.set()

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        t = loop.time()
        while not self.closed.is_set():
            t += 0.02
            await asyncio.sleep(max(0.0, t - loop.time()))
            self.writer.write(encode_frame(Kind.AUDIO, self.modem.audio_out(160)
                                           .astype("<i2").tobytes()))
            pcm = self.frames.popleft() if len(self.frames) > 2 else bytes(320)
            for event in self.modem.receive_audio(np.frombuffer(pcm, dtype="<i2")):
                if isinstance(event, Data):
                    self.minitel.feed(event.data)
                    self.minitel.take_output()
                elif isinstance(event, CarrierLost):
                    self.closed.set()
            self.changed.set()

    def press(self, key: Key) -> None:
        self.modem.send(self.minitel.press(key))
        self.minitel.take_output()

    def type(self, text: str) -> None:
        self.modem.send(self.minitel.type(text))
        self.minitel.take_output()

    async def wait_for(self, words: str, timeout: float = 30) -> None:
        async def until() -> None:
            while words not in self.minitel.render_text():
                self.changed.clear()
                await self.changed.wait()
        await asyncio.wait_for(until(), timeout)

    async def hangup(self) -> None:
        self.writer.write(encode_frame(Kind.HANGUP))
        await self.close()

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.writer.close()


async def test_a_consultation_handed_over_by_asterisk(make_server: MakeServer) -> None:
    server = await make_server(kind="audiosocket", max_calls=1)
    board, listener = server.board, server.listener
    peer = await FakeAsterisk.call(listener.port, CALLER_UUID)
    try:
        await peer.wait_for("Puis ENVOI")
        (call,) = board.calls
        assert call.conn.channel == "phone" and call.conn.identity == "0320123456"
        busy = await FakeAsterisk.call(listener.port, uuid.uuid4())  # max_calls = 1
        await asyncio.wait_for(busy.closed.wait(), 10)
        assert [f.kind for f in busy.got] == [Kind.HANGUP]
        await busy.close()
        peer.type(ELODIE[0])
        peer.press(Key.SUITE)
        peer.type(ELODIE[1])
        peer.press(Key.ENVOI)
        await peer.wait_for("Lycée Faidherbe")
        peer.press(Key.CONNEXION_FIN)
        await asyncio.wait_for(peer.closed.wait(), 30)  # the server hangs up
        assert peer.got[-1] == Frame(Kind.HANGUP)
    finally:
        await peer.close()
    await listener.idle()
    (record,) = await server.stop()
    assert record.ended_at and record.channel == "phone" and record.caller == "0320123456" and record.result_found


async def test_a_hangup_frame_ends_the_call_once(make_server: MakeServer) -> None:
    server = await make_server(kind="audiosocket")
    board, listener = server.board, server.listener
    peer = await FakeAsterisk.call(listener.port, uuid.uuid4())
    await peer.wait_for("Puis ENVOI")
    (call,) = board.calls
    assert call.conn.identity.startswith("uuid:")
    await peer.hangup()
    await listener.idle()
    assert not board.calls
    (record,) = await server.stop()
    assert record.ended_at and record.caller.startswith("uuid:")


async def test_a_peer_that_never_sends_its_uuid_is_dropped(make_server: MakeServer) -> None:
    server = await make_server(kind="audiosocket")
    reader, writer = await asyncio.open_connection("127.0.0.1", server.listener.port)
    writer.write(encode_frame(Kind.AUDIO, bytes(320)))
    assert await asyncio.wait_for(reader.read(), 10) == b""
    writer.close()
    assert await server.stop() == []
