"""In-band DTMF: reference tones (Q.24's accept and reject points), speech, banks, any split.

The tones are made here by formula (two sines), never by the detector's own code; speech is
synthesised by espeak-ng (French voices) and resampled to 8 kHz; levels in dBm0 as G.711 has
them. Tests assert what is detected; timings live in ``bench/bench_dtmf.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from videotex.protocols import g711
from videotex.protocols.dtmf import (
    DIGITS,
    HIGH_HZ,
    LOW_HZ,
    BankFull,
    Check,
    DigitEvent,
    DtmfConfig,
    SlotError,
    analyse,
)
from videotex.protocols.dtmf_bank import DtmfBank, DtmfDetector

FS = 8000
KEYS = "0123456789*#ABCD"
F64 = npt.NDArray[np.float64]


def dual(digit: str, ms: float, dbm0: float = -10.0, *, twist: float = 0.0,
         dev_lo: float = 0.0, dev_hi: float = 0.0, phase: tuple[float, float] = (0.3, 1.1)
         ) -> F64:
    """The key's two sines for ``ms``: the louder at ``dbm0``, the high one ``twist`` dB above
    the low (negative: below), each moved by ``dev_*`` (a fraction of its frequency)."""
    row = next(r for r, keys in enumerate(DIGITS) if digit in keys)
    col = DIGITS[row].index(digit)
    t = np.arange(round(ms * FS / 1000)) / FS
    lo = g711.dbm0_to_peak(dbm0 - max(0.0, twist))
    hi = g711.dbm0_to_peak(dbm0 + min(0.0, twist))
    return (lo * np.sin(2 * np.pi * LOW_HZ[row] * (1 + dev_lo) * t + phase[0])
            + hi * np.sin(2 * np.pi * HIGH_HZ[col] * (1 + dev_hi) * t + phase[1]))


def gap(ms: float) -> F64:
    return np.zeros(round(ms * FS / 1000))


def pcm(x: F64) -> npt.NDArray[np.int16]:
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def detect(x: F64 | npt.NDArray[np.int16], config: DtmfConfig | None = None
           ) -> list[DigitEvent]:
    """Everything the detector reports for ``x`` followed by 200 ms of silence."""
    d = DtmfDetector(config)
    return d.feed(pcm(np.asarray(x, dtype=np.float64))) + d.feed(np.zeros(1600, np.int16))


def digits(x: F64 | npt.NDArray[np.int16], config: DtmfConfig | None = None) -> str:
    return "".join(e.digit for e in detect(x, config))


def keypad(keys: str, on_ms: float = 60, off_ms: float = 60, **kw: float) -> F64:
    parts = [gap(37)]
    for k in keys:
        parts += [dual(k, on_ms, **kw), gap(off_ms)]
    return np.concatenate(parts)


def middle_failures(x: F64) -> frozenset[Check]:
    """The checks the analysis at the middle of ``x`` (a tone, 20 ms of silence before) failed."""
    seen = analyse(np.concatenate([gap(20), x, gap(20)]))
    return seen[(len(seen)) // 2][1]


# -- reference tones ----------------------------------------------------------------------------

@pytest.mark.parametrize("dbm0", [-3.0, -10.0, -20.0, -25.0])
def test_every_key_at_every_level(dbm0: float) -> None:
    x = keypad(KEYS, dbm0=dbm0)
    events = detect(x)
    assert "".join(e.digit for e in events) == KEYS
    for i, e in enumerate(events):  # each tone starts at 37 + 120 i ms and lasts 60 ms
        start = round((37 + 120 * i) * 8)
        assert abs(e.start - start) <= 40 and abs(e.duration - 480) <= 60, e


def test_too_quiet_is_no_key() -> None:
    assert digits(keypad("159#", dbm0=-42)) == ""
    assert Check.LEVEL in middle_failures(dual("5", 60, -42))


@pytest.mark.parametrize("dev", [-0.015, 0.015])
def test_frequencies_off_by_1_5_percent_are_accepted(dev: float) -> None:
    assert digits(keypad(KEYS, dev_lo=dev, dev_hi=dev)) == KEYS
    assert digits(keypad(KEYS, dev_lo=dev, dev_hi=-dev)) == KEYS


@pytest.mark.parametrize("dev", [-0.035, 0.035])
@pytest.mark.parametrize("which", ["dev_lo", "dev_hi"])
def test_a_tone_off_by_3_5_percent_is_rejected(dev: float, which: str) -> None:
    assert digits(keypad(KEYS, **{which: dev})) == ""
    for k in "1D":
        assert Check.DEVIATION in middle_failures(dual(k, 60, **{which: dev}))


@pytest.mark.parametrize("twist", [-3.0, 0.0, 4.0, 7.0])
def test_twist_within_limits(twist: float) -> None:
    assert digits(keypad(KEYS, twist=twist, dbm0=-8)) == KEYS


@pytest.mark.parametrize(("twist", "check"), [(10.0, Check.NORMAL_TWIST),
                                              (-6.0, Check.REVERSE_TWIST)])
def test_twist_beyond_limits(twist: float, check: Check) -> None:
    assert digits(keypad(KEYS, twist=twist, dbm0=-8)) == ""
    assert check in middle_failures(dual("8", 60, -8, twist=twist))


def test_40_ms_is_a_key_and_20_ms_is_not_wherever_they_fall_on_the_frames() -> None:
    rng = np.random.default_rng(40)
    for k in KEYS:
        for lead in rng.uniform(0, 20, 4):  # any position inside a 20 ms frame
            phase = (rng.uniform(0, 6.3), rng.uniform(0, 6.3))
            assert digits(np.concatenate([gap(lead), dual(k, 40, phase=phase)])) == k
            assert digits(np.concatenate([gap(lead), dual(k, 20, phase=phase)])) == ""


def test_a_long_press_is_one_event_with_its_duration() -> None:
    (e,) = detect(np.concatenate([gap(100), dual("0", 2500, -15), gap(50)]))
    assert e.digit == "0" and abs(e.start - 800) <= 40 and abs(e.end - 20800) <= 40


def test_pauses_between_presses() -> None:
    x = dual("7", 60)
    assert digits(np.concatenate([x, gap(40), x])) == "77"  # Q.24: 40 ms pauses
    assert digits(np.concatenate([x, gap(10), x])) == "7"  # an interruption
    assert digits(np.concatenate([x, gap(20), x])) == "7"  # a lost packet, concealed by silence
    assert digits(np.concatenate([dual("1", 60), dual("2", 60)])) == "12"  # no pause at all


def test_fast_dialling_40_ms_on_40_ms_off() -> None:
    rng = np.random.default_rng(4040)
    keys = "".join(rng.choice(list(KEYS), 40))
    assert digits(keypad(keys, on_ms=40, off_ms=40, dbm0=-12)) == keys


@pytest.mark.parametrize("snr", [10.0, 15.0, 20.0])
def test_white_noise(snr: float) -> None:
    rng = np.random.default_rng(int(snr))
    for dbm0 in (-5.0, -20.0):
        x = keypad(KEYS, dbm0=dbm0)
        power = 2 * g711.DBM0_RMS**2 * 10 ** (dbm0 / 10)  # both tones, the whole band
        noisy = x + rng.normal(0, np.sqrt(power / 10 ** (snr / 10)), len(x))
        assert digits(noisy) == KEYS


@pytest.mark.parametrize("law", list(g711.Law))
@pytest.mark.parametrize("dbm0", [-3.0, -25.0])
def test_through_g711(law: g711.Law, dbm0: float) -> None:
    x = keypad(KEYS, dbm0=dbm0, twist=2.0)
    assert digits(g711.decode(g711.encode(x, law), law)) == KEYS


def test_noise_alone_is_no_key() -> None:
    rng = np.random.default_rng(1)
    for sigma in (10.0, 300.0, 3000.0, 20000.0):
        assert digits(rng.normal(0, sigma, 5 * FS)) == ""
    assert digits(np.full(FS, 32767.0)) == ""  # a stuck sample
    assert digits(np.full(FS, 1000.0)) == ""  # a DC offset


def test_one_tone_alone_is_no_key() -> None:
    t = np.arange(FS) / FS
    for f in LOW_HZ + HIGH_HZ:
        assert digits(g711.dbm0_to_peak(-10) * np.sin(2 * np.pi * f * t)) == ""


# -- speech ---------------------------------------------------------------------------------------

TEXTS = [
    "Bienvenue au service des résultats des examens. Tapez votre numéro de candidat, "
    "puis la touche dièse.",
    "Votre date de naissance, en huit chiffres.",
    "Élodie Dupont, admise, mention très bien. Jean-Baptiste Lefèvre, ajourné.",
    "Marie-Claire Nguyen, admise, mention assez bien. Kévin Moreau, admis.",
    "Numéro de candidat: un, deux, trois, quatre, cinq, six, sept, huit, neuf, zéro.",
    "Le vingt-trois juin deux mille vingt-quatre, à quatorze heures trente. "
    "Quatre-vingt-dix-sept mille six cent soixante-dix-sept.",
    "Pour réécouter ce message, tapez étoile. Oui, non. Aaaah, ouiii, mmmh!",
]
VOICES = ["fr", "fr+f3", "fr+m3", "fr+f5"]
ESPEAK = shutil.which("espeak-ng")


def resample_to_8k(x: npt.NDArray[np.int16], rate: int) -> npt.NDArray[np.int16]:
    """Band-limited resampling by FFT (whole signal): keep what lies under 4 kHz."""
    n_out = round(len(x) * FS / rate)
    spectrum = np.fft.rfft(x.astype(np.float64))[: n_out // 2 + 1]
    y = np.fft.irfft(spectrum, n_out) * (n_out / len(x))
    return pcm(y)


def synthesise(text: str, voice: str, pitch: int, path: Path) -> npt.NDArray[np.int16]:
    assert ESPEAK is not None
    subprocess.run([ESPEAK, "-v", voice, "-p", str(pitch), "-w", str(path), text], check=True,
                   capture_output=True, timeout=60)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2), path
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return resample_to_8k(x, rate)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, npt.NDArray[np.int16]]]:
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng): no speech to test")
    folder = tmp_path_factory.mktemp("speech")
    out = []
    for v, voice in enumerate(VOICES):
        for t, text in enumerate(TEXTS):
            pitch = (30, 50, 70, 90)[(v + t) % 4]
            out.append((f"{voice}/p{pitch}: {text[:30]}",
                        synthesise(text, voice, pitch, folder / f"{v}-{t}.wav")))
    return out


def test_speech_is_no_key(speech: list[tuple[str, npt.NDArray[np.int16]]]) -> None:
    seconds = sum(len(x) for _, x in speech) / FS
    assert seconds > 60  # the voices really spoke
    for name, x in speech:
        assert g711.level_dbm0(x) > -30, name
        for gain in (1.0, 0.3):
            y = g711.alaw_decode(g711.alaw_encode(x * gain))
            assert detect(y) == [], f"{name} at {gain}"


def test_speech_then_keys(speech: list[tuple[str, npt.NDArray[np.int16]]]) -> None:
    """The prompt's echo does not hide the keys typed just after it."""
    _, prompt = speech[0]
    x = np.concatenate([prompt.astype(np.float64), keypad("0612#", dbm0=-15)])
    assert digits(x) == "0612#"


# -- banks and splits -----------------------------------------------------------------------------

def calls(seconds: float = 3.0) -> list[npt.NDArray[np.int16]]:
    """Different lines: keys at several levels, noise, a lost frame, silence."""
    rng = np.random.default_rng(9)
    n = round(seconds * FS)
    out = []
    for i in range(5):
        keys = "".join(rng.choice(list(KEYS), 8))
        x = keypad(keys, on_ms=50 + 10 * i, off_ms=60, dbm0=-4 - 5 * i)
        x = np.concatenate([gap(13 * i), x, gap(seconds * 1000)])[:n]
        out.append(pcm(x + rng.normal(0, 20 + 40 * i, n)))
    out.append(np.zeros(n, np.int16))
    return out


def test_a_bank_gives_what_single_detectors_give() -> None:
    lines = calls()
    bank = DtmfBank(len(lines) + 2)
    slots = [bank.add() for _ in lines]
    singles = [DtmfDetector() for _ in lines]
    got_bank: list[list[DigitEvent]] = [[] for _ in lines]
    rows = np.zeros((bank.capacity, 160), np.int16)
    free = pcm(np.concatenate([keypad(KEYS), gap(3000)]))  # a free slot's row is ignored
    for t in range(0, len(lines[0]), 160):
        for i, s in enumerate(slots):
            rows[s] = lines[i][t : t + 160]
        rows[-1] = free[t : t + 160]
        for s, e in bank.feed(rows):
            got_bank[slots.index(s)].append(e)
    got_single = [d.feed(x) for d, x in zip(singles, lines, strict=True)]
    assert got_bank == got_single
    assert [len(g) for g in got_single[:5]] == [8] * 5 and got_single[5] == []


def test_any_split_gives_the_same_events() -> None:
    x = calls()[2]
    whole = DtmfDetector().feed(x)
    rng = np.random.default_rng(5)
    for _ in range(5):
        d = DtmfDetector()
        cuts = np.sort(rng.integers(0, len(x), rng.integers(1, 200)))
        got = [e for part in np.split(x, cuts) for e in d.feed(part)]
        assert got == whole
    d = DtmfDetector()
    assert [e for i in range(len(x)) for e in d.feed(x[i : i + 1])] == whole  # one by one


def test_slots_are_independent_and_start_at_time_zero() -> None:
    bank = DtmfBank(3)
    a = bank.add()
    bank.feed(np.zeros((3, 1000), np.int16))  # a's call has run 1000 samples, b's none
    b = bank.add()
    rows = np.zeros((3, 4000))
    rows[a, 800:1600] = dual("1", 100)
    rows[b, 800:1600] = dual("9", 100)
    events = dict(bank.feed(rows))
    assert events[a].digit == "1" and events[b].digit == "9"
    assert abs(events[a].start - 1800) <= 40 and abs(events[b].start - 800) <= 40
    assert bank.slots == [a, b]


def test_a_held_slot_stands_still_as_if_its_late_frames_had_come_on_time() -> None:
    """Ticks where a call's frame is late (held) are not time for its detector: the same
    presses with the same times come out wherever the holds fall, mid-tone included; its
    neighbour is not disturbed. Silence in their place (the gap a late sender leaves)
    cuts keys in two."""
    x = pcm(keypad("1112#", on_ms=80, off_ms=80))
    x = np.concatenate([x, np.zeros((-len(x)) % 160 + 1600, np.int16)])
    frames = x.reshape(-1, 160)
    neighbour = pcm(np.concatenate([keypad("95", on_ms=60, off_ms=200), gap(8000)]))
    junk = np.full(160, 20000, np.int16)  # a held row is not read

    def run(holds: dict[int, int], held: bool) -> tuple[list[DigitEvent], list[DigitEvent]]:
        bank = DtmfBank(2)
        ours, other = bank.add(), bank.add()
        got: list[DigitEvent] = []
        theirs: list[DigitEvent] = []
        k = 0
        for i, frame in enumerate(frames):
            ticks = [(junk if held else np.zeros(160, np.int16), True)] * holds.get(i, 0)
            for audio, late in [*ticks, (frame, False)]:
                rows = np.stack([audio, neighbour[k * 160 : k * 160 + 160]])
                for slot, e in bank.feed(rows, hold=[late and held, False]):
                    (got if slot == ours else theirs).append(e)
                k += 1
        assert other == 1
        return got, theirs

    on_time, _ = run({}, held=True)
    assert "".join(e.digit for e in on_time) == "1112#"
    neighbour_alone = DtmfDetector().feed(neighbour[: len(neighbour) // 160 * 160])
    rng = np.random.default_rng(7)
    for _ in range(4):
        # late 1-6 ticks before a few frames, the middle of a tone's four frames included
        holds = {int(i): int(rng.integers(1, 7)) for i in rng.choice(len(frames) - 10, 6)}
        holds[4] = 3  # the middle of the first '1' (its tone: frames 1.85 to 5.85)
        got, theirs = run(holds, held=True)
        assert got == on_time, holds
        assert [(e.digit, e.start) for e in theirs] == \
            [(e.digit, e.start) for e in neighbour_alone][: len(theirs)]
        assert len(theirs) == 2
    gaps, _ = run({4: 3}, held=False)  # 60 ms of silence in the middle of the first '1'
    assert "".join(e.digit for e in gaps) != "1112#"


def test_hold_is_checked() -> None:
    bank = DtmfBank(2)
    bank.add()
    with pytest.raises(ValueError, match=r"hold must be \(2,\) booleans"):
        bank.feed(np.zeros((2, 160)), hold=[True])
    with pytest.raises(ValueError, match="whole frames of 160 samples"):
        bank.feed(np.zeros((2, 100)), hold=[True, False])
    bank.feed(np.zeros((2, 100)))
    with pytest.raises(ValueError, match="100 into a frame"):
        bank.feed(np.zeros((2, 160)), hold=[True, False])
    assert bank.feed(np.zeros((2, 60)), hold=[False, False]) == []  # no slot held: any n


def test_pressed_tells_the_key_held_before_the_event() -> None:
    d = DtmfDetector()
    x = pcm(dual("#", 90))
    assert d.feed(x[:200]) == [] and d.pressed is None
    assert d.feed(x[200:]) == [] and d.pressed == "#"
    (e,) = d.feed(gap(100))
    assert e.digit == "#" and d.pressed is None


def test_a_removed_slot_forgets_its_press() -> None:
    bank = DtmfBank(1)
    s = bank.add()
    bank.feed(dual("4", 100)[None, :])
    assert bank.pressed(s) == "4"
    bank.remove(s)
    assert bank.add() == s and bank.pressed(s) is None
    assert bank.feed(np.zeros((1, 1600))) == []


def test_slot_errors_name_the_slot() -> None:
    bank = DtmfBank(2)
    bank.add()
    bank.add()
    with pytest.raises(BankFull, match="all 2 slots"):
        bank.add()
    bank.remove(1)
    with pytest.raises(SlotError, match="slot 1 is not in use"):
        bank.remove(1)
    with pytest.raises(SlotError, match="slot 7"):
        bank.pressed(7)


def test_bad_input_is_refused_with_what_was_expected() -> None:
    bank = DtmfBank(4)
    with pytest.raises(ValueError, match=r"expected \(4, n\) samples, got shape \(3, 160\)"):
        bank.feed(np.zeros((3, 160)))
    with pytest.raises(TypeError, match="dtype complex128"):
        bank.feed(np.zeros((4, 160), complex))
    with pytest.raises(ValueError, match="one channel"):
        DtmfDetector().feed(np.zeros((2, 160)))
    with pytest.raises(ValueError, match="capacity of at least 1"):
        DtmfBank(0)
    with pytest.raises(ValueError, match="max_deviation"):
        DtmfConfig(max_deviation=0.2)
    with pytest.raises(ValueError, match="min_on_ms"):
        DtmfConfig(min_on_ms=1)


def test_floats_are_clipped_and_nan_is_silence() -> None:
    x = dual("6", 80)
    x[100] = np.nan
    x[200] = np.inf
    d = DtmfDetector()
    assert [e.digit for e in d.feed(np.concatenate([x, gap(100)]))] == ["6"]


# -- fuzz -----------------------------------------------------------------------------------------

_frames = hnp.arrays(np.int16, st.integers(0, 800), elements=st.integers(-32768, 32767))


@settings(max_examples=80, deadline=None)
@given(st.lists(_frames, max_size=10))
def test_any_int16_frames_never_raise(chunks: list[npt.NDArray[np.int16]]) -> None:
    d = DtmfDetector()
    for c in chunks:
        for e in d.feed(c):
            assert e.digit in KEYS and 0 <= e.start < e.end
    assert [e.digit for e in d.feed(np.concatenate([dual("3", 80), gap(100)]))][-1:] == ["3"]


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 30000.0), st.integers(0, 2**32 - 1), st.sampled_from(["white", "pink",
                                                                            "clipped"]))
def test_noise_of_any_level_is_no_key(sigma: float, seed: int, colour: str) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, sigma, 2 * FS)
    if colour == "pink":  # low frequencies stronger, like a line's hum and rumble
        x = np.cumsum(x) * 0.05
        x -= np.convolve(x, np.ones(64) / 64, "same")
    elif colour == "clipped":
        x = np.clip(x * 4, -32768, 32767)
    assert detect(x) == []
