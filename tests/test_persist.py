"""Durable state: checkpoint round trips (bit for bit), refusal of damaged files, the tick
journal (torn tails, corrupt records, sequence numbers), the journaled engine's ordering and
rollbacks, and crash tests that SIGKILL a child process mid-checkpoint and mid-journal."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import os
import select
import signal
import struct
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import persist
from kospi_fast.events import (
    AdditionalListing,
    CashDividend,
    RightsIssue,
    Split,
)
from kospi_fast.persist import (
    CorruptStateError,
    Journal,
    JournaledEngine,
    StateMismatchError,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="durability tests are POSIX-only")


@pytest.fixture(params=["engine", "family"])
def book_kind(request, monkeypatch):
    """Run a durability test for both kinds of book (the crash-test children inherit it)."""
    monkeypatch.setenv("KF_TEST_BOOK", request.param)
    return request.param

SRC = str(Path(kf.__file__).resolve().parents[1])

# The deterministic scenario shared by the tests and the crash-test child processes.
SCENARIO = '''
import os
import numpy as np
import kospi_fast as kf
from kospi_fast.events import CashDividend, Delisting, NewListing, RightsIssue, Split

N_TICKS, BATCH = 24_000, 400

def make_engine():
    """The book under test: KF_TEST_BOOK=family gives a KOSPI family (KOSPI, KOSPI 200 with
    float ratios, its equal-weight twin, size and sector indices), else a KOSPI engine."""
    u = kf.sample_universe()
    if os.environ.get("KF_TEST_BOOK") == "family":
        k200 = list(u.codes[:200])
        return kf.IndexFamily.kospi(u, kospi200=k200, float_ratios={c: 0.05 * (1 + i % 20) for i, c in enumerate(k200)},
                                    equal_weighted=True, levels={"KOSPI": 5781.2, "KOSPI 200": 812.5},
                                    price_band=None)  # the ticks go on at pre-split prices
    return kf.IndexEngine(u, level=5781.2, price_band=None)

def batches(u):
    day = kf.simulate_day(u, n_ticks=N_TICKS, seed=99)
    return [(day.ids[k:k + BATCH], day.prices[k:k + BATCH], day.times[k:k + BATCH])
            for k in range(0, N_TICKS, BATCH)]

def events(u):
    c = u.codes
    return [Split(c[3], "1:10", effective="2026-03-24"), RightsIssue(c[5], 1000, 1_000_000),
            NewListing("9ZZ001", 1_000_000, 50_000, name="New Co", sector="X"), Delisting(c[7]),
            CashDividend(c[1], 361.5, effective="2026-03-24")]

EVENT_AFTER = 10  # batches before the events

def expected(n_batches):
    """An uninterrupted run over the first n_batches batches (events after EVENT_AFTER)."""
    e = make_engine()
    bs = batches(e.universe)
    for k, (ids, px, _) in enumerate(bs[:n_batches]):
        if k == EVENT_AFTER:
            e.apply_events(events(e.universe), date="2026-03-24")
        e.update_many(ids, px)
    if n_batches == EVENT_AFTER:
        e.apply_events(events(e.universe), date="2026-03-24")
    return e
'''
S: dict = {}
exec(SCENARIO, S)  # noqa: S102 - our own constant


# ---------------------------------------------------------------------------- helpers
def _float_eq(a: float, b: float) -> bool:
    return type(a) is type(b) and a.hex() == b.hex()


def _same_value(a: object, b: object) -> bool:
    """Equal and of the same type, floats bit for bit, recursively through tuples/events."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return _float_eq(a, b)  # type: ignore[arg-type]
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return all(_same_value(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def assert_same_state(a, b) -> None:
    """Every piece of book state equal, bit for bit (independent of persist's encoder): the
    plain BookState, the kernel's exact caps and levels, and the instance attributes."""
    assert type(a) is type(b)
    assert set(vars(a)) == set(vars(b))
    assert len(a) == len(b)
    assert [float(x).hex() for x in a.levels] == [float(x).hex() for x in b.levels]
    if isinstance(a, kf.IndexEngine):
        assert _float_eq(a.level, b.level) and a.cap == b.cap and _float_eq(a.divisor, b.divisor)
        assert _float_eq(a.base_value, b.base_value) and _float_eq(a.previous_close, b.previous_close)
    else:
        assert a.caps.tolist() == b.caps.tolist() and a.divisors.tobytes() == b.divisors.tobytes()
    sa, sb = a.to_state(), b.to_state()
    assert sa.kind == sb.kind and sa.definitions == sb.definitions
    for name in ("prices", "reference_prices", "listed", "member", "index_shares", "factors", "divisors",
                 "previous_levels"):
        assert _same_array(getattr(sa, name), getattr(sb, name)), name
    ua, ub = a.universe, b.universe
    assert (ua.codes, ua.names, ua.sectors) == (ub.codes, ub.names, ub.sectors)
    assert _same_array(ua.shares, ub.shares) and _same_array(ua.base_prices, ub.base_prices)
    assert not ub.shares.flags.writeable and ua.code_index == ub.code_index
    assert len(a.audit) == len(b.audit)
    for ra, rb in zip(a.audit, b.audit):
        assert _same_value(ra, rb), (ra, rb)
    assert _same_value(a.dividends, b.dividends)
    assert sa.applied == sb.applied
    assert {(type(e), repr(e)) for e in sa.applied} == {(type(e), repr(e)) for e in sb.applied}


def assert_same_future(a: kf.IndexEngine, b: kf.IndexEngine, seed: int = 5) -> None:
    """Both engines respond identically to more trades and to a further event."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(a), 3000)
    px = np.maximum(1, (a.prices[ids] * rng.uniform(0.9, 1.1, ids.size)).astype(np.int64))
    assert a.update_many(ids, px).tobytes() == b.update_many(ids, px).tobytes()
    code = a.universe.codes[11]
    ra = a.apply_events([AdditionalListing(code, 12345, effective="2026-03-25")], date="2026-03-25")
    rb = b.apply_events([AdditionalListing(code, 12345, effective="2026-03-25")], date="2026-03-25")
    assert _same_value(ra, rb)
    assert_same_state(a, b)


def scenario_engine(n_batches: int = 30) -> kf.IndexEngine:
    e = S["expected"](n_batches)
    e.roll([CashDividend(e.universe.codes[2], 100.0, effective="2026-03-25")], date="2026-03-25")
    return e


def _reframe(data: bytes, edit) -> bytes:
    """Re-write a valid checkpoint with ``edit(header)`` applied and a fresh checksum: a file
    that passes the checksum but whose header is inconsistent."""
    _, version, flags, hlen = struct.unpack_from("<8sIIQ", data, 0)
    header = json.loads(data[24:24 + hlen])
    edit(header)
    hdr = json.dumps(header, separators=(",", ":")).encode("ascii")
    hdr += b" " * (-len(hdr) % 8)
    body = data[:8] + struct.pack("<IIQ", version, flags, len(hdr)) + hdr + data[24 + hlen:len(data) - 48]
    return body + b"KFSTEND\n" + struct.pack("<Q", len(body)) + hashlib.sha256(body).digest()


# ---------------------------------------------------------------------------- round trips
def test_round_trip_bit_exact(book_kind, tmp_path):
    e = scenario_engine()
    # one audit record per index the events touched (the KOSPI engine has one index)
    groups = {r.events for r in e.audit}
    assert len(groups) == 2 and all(sum(r.index == "KOSPI" and r.events == g for r in e.audit) == 1 for g in groups)
    assert len(e.audit) == 2 or book_kind == "family"
    assert e.dividends and e.to_state().applied and len(e.universe) == len(kf.sample_universe()) + 1
    path = tmp_path / "state.kfs"
    persist.save_engine(e, path)
    assert os.listdir(tmp_path) == ["state.kfs"]  # no temporary file left behind
    f = persist.load_engine(path)
    assert_same_state(e, f)
    assert f.recompute_levels().tobytes() == e.recompute_levels().tobytes() == e.levels.tobytes()
    assert f.audit_table() == e.audit_table()
    g = persist.load_engine(str(path))  # str paths too; loading twice gives independent engines
    assert_same_future(e, f)
    assert_same_state(g, persist.load_engine(path))


def test_round_trip_value_types_and_custom_index(tmp_path):
    u = kf.Universe(["000010", "000020", "000030", "000040"], ["A", "B", "C", "D"],
                    [100, 1000, 500, 300], [10_000, 50_000, 2_000, 7_000])
    e = kf.IndexEngine(u, base_cap=123_456_789.125, index_shares=[50, 0, 500, 300], price_band=None)
    e.update_many([0, 2], [10_100, 2_010])
    e.apply_events([CashDividend("000010", 0.1, effective=datetime.date(2026, 3, 24))],
                   date=datetime.date(2026, 3, 24))
    e.apply_changes(["000020"], index_shares=[7])
    full = kf.IndexEngine(u, level=1234.5678, price_band=None)
    full.apply_events([Split("000010", Fraction(1, 4)), Split("000030", "1:3"),
                       RightsIssue("000020", Fraction(40001, 2), np.int64(10), old_shares=1000, rounding="down"),
                       AdditionalListing("000030", 7, reason="CB conversion", effective="2026-03-26")],
                      date=datetime.datetime(2026, 3, 26, 9, 0, tzinfo=datetime.UTC))
    for eng in (e, full):
        persist.save_engine(eng, tmp_path / "s")
        back = persist.load_engine(tmp_path / "s")
        assert_same_state(eng, back)
    ev = back.audit[-1].events
    assert type(ev[2].new_shares) is np.int64 and ev[0].ratio == Fraction(1, 4) and ev[1].ratio == "1:3"
    assert type(back.audit[-1].effective) is datetime.datetime
    assert back.audit[-1].effective.tzinfo == datetime.UTC


def test_fresh_engine_round_trip(tmp_path):
    e = kf.IndexEngine(kf.sample_universe(), price_band=None)
    persist.save_engine(e, tmp_path / "s")
    f = persist.load_engine(tmp_path / "s")
    assert f.audit == [] and f.dividends == [] and f.to_state().applied == set()
    assert_same_state(e, f)
    assert_same_future(e, f)


def test_engine_save_and_load_methods(tmp_path):
    e = scenario_engine(8)
    e.save(tmp_path / "s")
    f = kf.IndexEngine.load(tmp_path / "s")
    assert_same_state(e, f)

    class Sub(kf.IndexEngine):
        pass

    g = Sub.load(str(tmp_path / "s"))
    assert type(g) is Sub and g.level.hex() == e.level.hex()
    (tmp_path / "s").write_bytes((tmp_path / "s").read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated or torn"):
        kf.IndexEngine.load(tmp_path / "s")


@dataclasses.dataclass(frozen=True)
class Note(CashDividend):
    """A user-defined event type (outside kospi_fast.events)."""

    memo: str = ""


def test_custom_event_types_need_to_be_named(tmp_path):
    e = kf.IndexEngine(kf.sample_universe(), price_band=None)
    e.apply_events([Note(e.universe.codes[0], 1.0, effective="2026-03-24", memo="hi")], date="2026-03-24")
    persist.save_engine(e, tmp_path / "s")
    with pytest.raises(CorruptStateError, match="unknown event type .*Note.*event_types"):
        persist.load_engine(tmp_path / "s")
    assert_same_state(e, persist.load_engine(tmp_path / "s", event_types=[Note]))


def test_save_refuses_state_it_cannot_hold(tmp_path):
    e = kf.IndexEngine(kf.sample_universe(), price_band=None)
    e.extra = 1  # an attribute persist does not know would be silently lost
    with pytest.raises(ValueError, match="unknown to kospi_fast.persist.*extra"):
        persist.save_engine(e, tmp_path / "s")
    del e.extra
    before = e.to_state()
    with pytest.raises(TypeError, match=r"`date`: cannot persist"):  # refused when recorded, not at save
        e.apply_events([CashDividend(e.universe.codes[0], 1.0)], date=object())
    assert_same_state(e, kf.IndexEngine.from_state(before))
    e.audit.append(dataclasses.replace(e.roll([CashDividend(e.universe.codes[0], 1.0)]), effective=object()))
    with pytest.raises(TypeError, match=r"audit\[1\].effective: cannot persist"):
        persist.save_engine(e, tmp_path / "s")
    assert os.listdir(tmp_path) == []  # nothing written, no temporary file left
    with pytest.raises(TypeError, match="index book"):
        persist.save_engine(object(), tmp_path / "s")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- damaged files
def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x40]) + data[at + 1:]


CORRUPTIONS = {
    "flip_middle": (lambda d: _flip(d, len(d) // 2), "checksum mismatch"),
    "flip_header": (lambda d: _flip(d, 40), "checksum mismatch"),
    "flip_checksum": (lambda d: _flip(d, len(d) - 1), "checksum mismatch"),
    "truncated_half": (lambda d: d[: len(d) // 2], "truncated or torn"),
    "truncated_1": (lambda d: d[:-1], "truncated or torn"),
    "torn_zero_tail": (lambda d: d[: len(d) - 4096] + b"\0" * 4096, "truncated or torn"),
    "appended": (lambda d: d + b"x", "truncated or torn"),
    "empty": (lambda d: b"", "truncated"),
    "prefix_only": (lambda d: d[:30], "truncated"),
    "wrong_magic": (lambda d: b"PK\x03\x04" + d[4:], "not a kospi_fast checkpoint"),
    "journal_not_state": (lambda d: b"\x89KFJRNL\n" + d[8:], "bad magic"),
    "bad_version": (lambda d: d[:8] + struct.pack("<I", 1) + d[12:], "unsupported checkpoint format version 1"),
    "inconsistent_cap": (lambda d: _reframe(d, lambda h: h["caps"].__setitem__(0, h["caps"][0] + 1)),
                         "inconsistent header: .*cap"),
    "inconsistent_shape": (lambda d: _reframe(d, lambda h: h["arrays"]["prices"].update(shape=[3])),
                           "inconsistent header: .*prices"),
    "inconsistent_crc": (lambda d: _reframe(d, lambda h: h["arrays"]["listed"].update(crc32=0)),
                         "inconsistent header: .*CRC-32"),
    "missing_key": (lambda d: _reframe(d, lambda h: h.pop("audit")), "inconsistent header: KeyError"),
    "untagged_float": (lambda d: _reframe(d, lambda h: h["levels"].__setitem__(0, 1.5)),
                       "inconsistent header"),
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_damaged_checkpoint_is_refused_and_previous_stays_usable(tmp_path, kind):
    good = tmp_path / "state.kfs"
    e = scenario_engine(12)
    persist.save_engine(e, good)
    bad = tmp_path / "newer.kfs"
    mutate, message = CORRUPTIONS[kind]
    bad.write_bytes(mutate(good.read_bytes()))
    with pytest.raises(CorruptStateError, match=message) as info:
        persist.load_engine(bad)
    assert str(bad) in str(info.value) and isinstance(info.value, ValueError)
    assert_same_state(e, persist.load_engine(good))


def test_failed_save_leaves_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "state.kfs"
    e = scenario_engine(5)
    persist.save_engine(e, path)
    before = path.read_bytes()
    e.update_many(*S["batches"](e.universe)[20][:2])

    for stage in ("tmp-half-written", "tmp-synced"):
        def hook(s, p, stage=stage):
            if s == stage:
                raise OSError(28, "No space left on device (injected)")

        monkeypatch.setattr(persist._files, "_crash_test_hook", hook)
        with pytest.raises(OSError, match="injected"):
            persist.save_engine(e, path)
        assert path.read_bytes() == before and os.listdir(tmp_path) == ["state.kfs"]


# ---------------------------------------------------------------------------- journal
def _ticks(n: int, seed: int = 1):
    u = kf.sample_universe()
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, len(u), n)
    return ids, u.base_prices[ids] + rng.integers(-5, 6, n) * 100


def test_journal_records_round_trip_and_continue(tmp_path):
    path = tmp_path / "j"
    with Journal(path) as j:
        assert (j.base_seq, j.last_seq) == (0, 0)
        ids, px = _ticks(100)
        assert j.append(ids[:60], px[:60], times=np.arange(60)) == 1
        assert j.append(ids[60:].astype(np.int32), px[60:].tolist()) == 2
        assert j.append([], []) == 3
        sid = j.stream_id
    with Journal(path) as j:  # reopen: continues the sequence
        assert (j.last_seq, j.stream_id) == (3, sid)
        assert j.append(ids[:1], px[:1]) == 4
    recs = Journal.read(path)
    assert [r.seq for r in recs] == [1, 2, 3, 4]
    assert np.array_equal(recs[0].ids, ids[:60]) and np.array_equal(recs[1].prices, px[60:])
    assert np.array_equal(recs[0].times, np.arange(60)) and recs[1].times is None and len(recs[2].ids) == 0
    with pytest.raises(RuntimeError, match="open for writing elsewhere"), Journal(path), Journal(path):
        pass


def _journal_with(tmp_path, n_records: int = 5, size: int = 50):
    path = tmp_path / "j"
    ids, px = _ticks(n_records * size)
    with Journal(path) as j:
        offsets = []
        for k in range(n_records):
            offsets.append(os.path.getsize(path))
            j.append(ids[k * size:(k + 1) * size], px[k * size:(k + 1) * size])
    return path, ids, px, offsets


def _engine_after(ids, px, n_ticks):
    e = kf.IndexEngine(kf.sample_universe(), level=5781.2, price_band=None)
    e.update_many(ids[:n_ticks], px[:n_ticks])
    return e


@pytest.mark.parametrize("cut", ["mid_header", "mid_payload", "zeroed_payload", "garbage_header", "all_zero_tail"])
def test_journal_torn_tail_is_ignored_then_cut(tmp_path, cut):
    path, ids, px, offsets = _journal_with(tmp_path)
    data = path.read_bytes()
    last = offsets[-1]
    data = {
        "mid_header": data[: last + 10],
        "mid_payload": data[: last + 100],
        "zeroed_payload": data[: last + 40] + b"\0" * (len(data) - last - 40),
        "garbage_header": data[:last] + b"\xff" * 40,
        "all_zero_tail": data + b"\0" * 300,  # the size reached the disk, the data did not
    }[cut]
    path.write_bytes(data)
    n_ok = 5 if cut == "all_zero_tail" else 4
    e = kf.IndexEngine(kf.sample_universe(), level=5781.2, price_band=None)
    rep = Journal.replay(path, e)
    assert (rep.records, rep.ticks, rep.last_seq, rep.torn_tail) == (n_ok, n_ok * 50, n_ok, True)
    assert rep.torn_bytes == len(data) - (offsets[n_ok] if n_ok < 5 else len(data) - 300)
    assert_same_state(e, _engine_after(ids, px, n_ok * 50))
    with Journal(path) as j:  # reopening for append cuts the torn tail
        assert j.truncated_tail == rep.torn_bytes and j.last_seq == n_ok
        j.append(ids[:3], px[:3])
    recs = Journal.read(path)
    assert [r.seq for r in recs] == list(range(1, n_ok + 2))
    assert not Journal.replay(path, kf.IndexEngine(kf.sample_universe(), level=1.0, price_band=None)).torn_tail


@pytest.mark.parametrize("where", ["payload", "header"])
def test_journal_corrupt_record_in_the_middle_is_an_error(tmp_path, where):
    path, *_, offsets = _journal_with(tmp_path)
    data = path.read_bytes()
    at = offsets[2] + (100 if where == "payload" else 12)
    path.write_bytes(_flip(data, at))
    e = kf.IndexEngine(kf.sample_universe(), price_band=None)
    with pytest.raises(CorruptStateError, match="corrupt|checksum") as info:
        Journal.replay(path, e)
    assert str(path) in str(info.value)
    with pytest.raises(CorruptStateError):
        Journal(path)  # nor can it be appended to


def test_journal_bad_header_and_sequence(tmp_path):
    path, *_, offsets = _journal_with(tmp_path)
    data = path.read_bytes()
    for mutated, msg in [
        (b"\x89KFSTAT\n" + data[8:], "not a kospi_fast journal"),
        (data[:8] + struct.pack("<I", 9) + data[12:], "unsupported journal format version 9"),
        (_flip(data, 20), "journal header checksum"),
        (data[:30], "truncated journal header"),
        (data[: offsets[1]] + data[offsets[2]:], "sequence number 3, expected 2"),  # a record is missing
    ]:
        path.write_bytes(mutated)
        with pytest.raises(CorruptStateError, match=msg):
            Journal.replay(path, kf.IndexEngine(kf.sample_universe(), price_band=None))


def test_replay_skips_covered_records_and_checks_stream(tmp_path):
    path, ids, px, _ = _journal_with(tmp_path)
    e = _engine_after(ids, px, 150)  # a checkpoint covering records 1..3
    rep = Journal.replay(path, e, after_seq=3)
    assert (rep.records, rep.skipped, rep.last_seq) == (2, 3, 5)
    assert_same_state(e, _engine_after(ids, px, 250))
    with pytest.raises(StateMismatchError, match="does not belong"):
        Journal.replay(path, e, stream_id="00000000-0000-0000-0000-000000000000")
    Journal.create(path, base_seq=7).close()
    with pytest.raises(StateMismatchError, match="records 4..7 are missing"):
        Journal.replay(path, e, after_seq=3)


# ---------------------------------------------------------------------------- journaled engine
def test_journaled_engine_recovers_exactly(book_kind, tmp_path):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    e = S["make_engine"]()
    bs = S["batches"](e.universe)
    je = JournaledEngine.create(e, st, jp)
    for k, (ids, px, t) in enumerate(bs[:25]):
        if k == S["EVENT_AFTER"]:
            je.apply_events(S["events"](e.universe), date="2026-03-24")
            assert je.journal.base_seq == 10 and persist.read_checkpoint(st).seq == 10
        je.update_many(ids, px, t)
    assert je.seq == 25 and je.levels.tobytes() == e.levels.tobytes()
    n_before = os.path.getsize(jp)
    with pytest.raises(ValueError, match="must be > 0"):
        je.update_many([0, 1], [1000, -5])  # rejected: not applied, not journaled
    with pytest.raises(AttributeError, match="journaled methods"):
        je.apply_something  # noqa: B018
    assert je.seq == 25 and os.path.getsize(jp) == n_before
    assert np.array_equal(je.update("005930", 200_000), e.levels if book_kind == "family" else e.level)
    assert je.seq == 26
    je.close()
    back, rep = persist.recover(st, jp)
    assert (rep.records, rep.skipped, rep.torn_tail) == (16, 0, False)
    assert_same_state(e, back)
    je2, rep2 = JournaledEngine.recover(st, jp)  # recovery ends with a fresh checkpoint
    assert rep2.records == 16 and je2.journal.base_seq == 26 and je2.seq == 26
    assert_same_state(e, je2.engine)
    je2.close()


def test_failed_journal_write_rolls_the_batch_back(book_kind, tmp_path, monkeypatch):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    e = S["make_engine"]()
    bs = S["batches"](e.universe)
    je = JournaledEngine.create(e, st, jp)
    je.update_many(*bs[0])
    ref = persist.load_engine(st)
    ref.update_many(*bs[0][:2])
    size = os.path.getsize(jp)

    def hook(stage, path):
        if stage == "record-half-written":
            raise KeyboardInterrupt  # interrupted mid-write: the half record is cut off again

    monkeypatch.setattr(persist._files, "_crash_test_hook", hook)
    with pytest.raises(KeyboardInterrupt):
        je.update_many(*bs[1])
    assert_same_state(e, ref)
    assert os.path.getsize(jp) == size and je.seq == 1

    def hook_io(stage, path):
        if stage == "record-half-written":
            raise OSError(5, "I/O error (injected)")

    monkeypatch.setattr(persist._files, "_crash_test_hook", hook_io)
    with pytest.raises(OSError, match="injected"):
        je.update_many(*bs[1])
    assert_same_state(e, ref)
    monkeypatch.setattr(persist._files, "_crash_test_hook", None)
    with pytest.raises(OSError, match="unusable"):  # an I/O error makes the journal refuse more
        je.update_many(*bs[1])
    je.close()
    back, rep = persist.recover(st, jp)
    assert rep.records == 1 and not rep.torn_tail
    assert_same_state(back, ref)


def test_failed_event_checkpoint_rolls_back(book_kind, tmp_path, monkeypatch):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    e = S["make_engine"]()
    bs = S["batches"](e.universe)
    je = JournaledEngine.create(e, st, jp)
    for b in bs[:3]:
        je.update_many(*b)
    ref = S["expected"](3)

    def hook(stage, path):
        if stage == "tmp-synced" and "state" in path:
            raise OSError(28, "No space left on device (injected)")

    monkeypatch.setattr(persist._files, "_crash_test_hook", hook)
    with pytest.raises(OSError, match="injected"):
        je.apply_events(S["events"](e.universe), date="2026-03-24")
    assert_same_state(e, ref)  # the event is undone: the durable state does not have it
    monkeypatch.setattr(persist._files, "_crash_test_hook", None)
    je.update_many(*bs[3])
    je.close()
    back, rep = persist.recover(st, jp)
    assert rep.records == 4
    assert_same_state(back, e)


def test_crash_between_checkpoint_and_journal_reset_does_not_double_apply(tmp_path, monkeypatch):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    e = S["make_engine"]()
    bs = S["batches"](e.universe)
    je = JournaledEngine.create(e, st, jp)
    for b in bs[:6]:
        je.update_many(*b)

    def hook(stage, path):
        if stage == "checkpoint-saved":
            raise SystemExit("simulated crash")

    monkeypatch.setattr(persist._files, "_crash_test_hook", hook)
    with pytest.raises(SystemExit):
        je.checkpoint()
    je.close()
    back, rep = persist.recover(st, jp)
    assert (rep.records, rep.skipped, rep.last_seq) == (0, 6, 6)
    assert_same_state(back, S["expected"](6))


# ---------------------------------------------------------------------------- crash tests
CHILD = SCENARIO + '''
import os, sys, time
from kospi_fast import persist

mode, state, journal, arg = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
e = make_engine()
bs = batches(e.universe)
je = persist.JournaledEngine.create(e, state, journal)

def stop_here(stage):
    print("AT", stage, flush=True)
    time.sleep(120)

if mode == "checkpoint":
    stage, target = arg.split(":")
    for k, b in enumerate(bs[:20]):
        if k == EVENT_AFTER:
            je.apply_events(events(e.universe), date="2026-03-24")
        je.update_many(*b)

    def hook(s, path):
        if s == stage and target in os.path.basename(path):
            stop_here(s)

    persist._files._crash_test_hook = hook
    je.checkpoint()
    print("DONE", flush=True)
elif mode == "torn":
    def hook(s, path):
        if s == "record-half-written" and je.journal.last_seq == int(arg):
            stop_here(s)

    persist._files._crash_test_hook = hook
    for b in bs[:EVENT_AFTER]:
        je.update_many(*b)
else:  # "ticks": journal batches until killed at a random moment
    for k, b in enumerate(bs):
        if k == EVENT_AFTER:
            je.apply_events(events(e.universe), date="2026-03-24")
        je.update_many(*b)
        print("ACK", je.seq, flush=True)
    time.sleep(120)
'''


def _spawn(tmp_path, *args: str) -> subprocess.Popen:
    script = tmp_path / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)


def _lines_until(proc: subprocess.Popen, done, timeout: float = 60.0) -> list[str]:
    """Read the child's stdout lines until ``done(lines)``; fail on exit or timeout."""
    fd, buf, lines = proc.stdout.fileno(), b"", []  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    while not done(lines):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            proc.kill()
            pytest.fail(f"child timed out; so far {lines}")
        chunk = os.read(fd, 4096)
        if not chunk:
            proc.wait()
            pytest.fail(f"child exited {proc.returncode}: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
        buf += chunk
        *complete, buf = buf.split(b"\n")
        lines += [c.decode() for c in complete]
    return lines


def _kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    proc.stdout.close()  # type: ignore[union-attr]
    proc.stderr.close()  # type: ignore[union-attr]


@pytest.mark.parametrize("stage, target, skipped", [
    ("tmp-half-written", "state", 0),  # torn temporary state file
    ("tmp-synced", "state", 0),  # complete temporary file, not yet renamed
    ("replaced", "state", 10),  # renamed, directory not yet fsynced; journal not reset
    ("checkpoint-saved", "state", 10),  # new checkpoint durable, journal not yet reset
    ("tmp-synced", "journal", 10),  # the empty journal written, not yet renamed
])
def test_sigkill_during_checkpoint(book_kind, tmp_path, stage, target, skipped):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    proc = _spawn(tmp_path, "checkpoint", str(st), str(jp), f"{stage}:{target}")
    _lines_until(proc, lambda lines: any(x.startswith("AT") for x in lines))
    _kill(proc)
    leftovers = [p for p in os.listdir(tmp_path) if ".tmp-" in p]
    if stage.startswith("tmp"):
        assert len(leftovers) == 1  # the torn/unrenamed temp file is never read by recovery
        if stage == "tmp-half-written":
            with pytest.raises(CorruptStateError, match="truncated or torn"):
                persist.load_engine(tmp_path / leftovers[0])
    back, rep = persist.recover(st, jp)
    assert (rep.records, rep.skipped, rep.torn_tail) == (10 - skipped, skipped, False)
    expected = S["expected"](20)
    assert_same_state(back, expected)
    je, _ = JournaledEngine.recover(st, jp)  # and the stream continues
    b = S["batches"](expected.universe)[20]
    assert je.update_many(*b).tobytes() == expected.update_many(*b[:2]).tobytes()
    je.close()
    assert_same_state(persist.recover(st, jp)[0], expected)


def test_sigkill_mid_journal_record_leaves_a_torn_tail(book_kind, tmp_path):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    proc = _spawn(tmp_path, "torn", str(st), str(jp), "6")  # killed while writing record 7
    _lines_until(proc, lambda lines: any(x.startswith("AT") for x in lines))
    _kill(proc)
    back, rep = persist.recover(st, jp)
    assert (rep.records, rep.last_seq, rep.torn_tail) == (6, 6, True) and rep.torn_bytes > 0
    assert_same_state(back, S["expected"](6))
    je, rep2 = JournaledEngine.recover(st, jp)  # cuts the torn tail, checkpoints, continues
    assert (rep2.records, rep2.torn_tail, rep2.torn_bytes) == (6, True, rep.torn_bytes)
    expected = S["expected"](6)
    for b in S["batches"](expected.universe)[6:9]:
        je.update_many(*b)
        expected.update_many(*b[:2])
    je.close()
    back, rep3 = persist.recover(st, jp)
    assert (rep3.records, rep3.torn_tail) == (3, False)
    assert_same_state(back, expected)


def test_sigkill_at_a_random_moment_of_journaled_ticks(book_kind, tmp_path):
    st, jp = tmp_path / "state.kfs", tmp_path / "journal"
    proc = _spawn(tmp_path, "ticks", str(st), str(jp), "-")
    lines = _lines_until(proc, lambda lines: sum(x.startswith("ACK") for x in lines) >= 25)
    _kill(proc)
    acked = max(int(x.split()[1]) for x in lines if x.startswith("ACK"))
    back, rep = persist.recover(st, jp)
    assert rep.last_seq >= acked  # every acknowledged batch survived
    n = rep.last_seq
    assert n <= len(S["batches"](back.universe))
    assert_same_state(back, S["expected"](n))
