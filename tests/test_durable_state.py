"""Durable state against crafted and damaged files (issue 12, reliability review defects 4-9, 11).

A checkpoint's SHA-256 is a checksum, not a MAC: anyone can edit the header and re-sign it.
Such a file must still be validated field by field and refused with ``CorruptStateError``
(never a foreign exception, never a loaded invalid book); ``save`` never writes what ``load``
refuses; a bit flip in an acknowledged journal record is corruption, not a torn tail."""

import hashlib
import json
import os
import struct
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast import persist
from kospi_fast.events import AdditionalListing, CashDividend, Split
from kospi_fast.persist import CorruptStateError, Journal


def _split(data: bytes) -> tuple[dict, bytes]:
    hlen = struct.unpack_from("<Q", data, 16)[0]
    return json.loads(data[24:24 + hlen]), data[24 + hlen:len(data) - 48]


def _frame(header_json: bytes, section: bytes) -> bytes:
    """A checkpoint around this header text and data section, with a valid fresh checksum."""
    hdr = header_json + b" " * (-len(header_json) % 8)
    body = b"\x89KFSTAT\n" + struct.pack("<IIQ", 2, 0, len(hdr)) + hdr + section
    return body + b"KFSTEND\n" + struct.pack("<Q", len(body)) + hashlib.sha256(body).digest()


def _resign(data: bytes, edit) -> bytes:
    header, section = _split(data)
    edit(header)
    return _frame(json.dumps(header, separators=(",", ":")).encode("ascii"), section)


@pytest.fixture(scope="module")
def saved() -> bytes:
    e = kf.IndexEngine(kf.sample_universe(), level=5781.2)
    e.roll([CashDividend(e.universe.codes[2], 100.0, effective="2026-03-25"),
            Split(e.universe.codes[3], 2, effective="2026-03-25")], date="2026-03-25")
    return persist.dumps(e)


def _audit(h):
    return h["audit"][0]["$record"]


CRAFTED = {
    # foreign exceptions before the fix
    "fraction_zero_denominator": lambda h: h.__setitem__("dividends", [{"$fraction": [1, 0]}]),
    "float_overflow": lambda h: _audit(h).__setitem__("level_after", {"$float": "0x1p99999"}),
    "decimal_garbage": lambda h: h.__setitem__("dividends", [{"$decimal": "abc"}]),
    # invalid states that loaded before the fix
    "audit_ids_outside_universe": lambda h: _audit(h).__setitem__("ids", {"$tuple": [10**9]}),
    "audit_cap_a_string": lambda h: _audit(h).__setitem__("cap_before", "hello"),
    "audit_divisor_negative": lambda h: _audit(h).__setitem__("divisor_after", {"$float": (-1.0).hex()}),
    "audit_level_nan": lambda h: _audit(h).__setitem__("level_before", {"$float": "nan"}),
    "audit_events_not_events": lambda h: _audit(h).__setitem__("events", {"$tuple": [1, 2]}),
    "dividend_not_a_pair": lambda h: h["dividends"].__setitem__(0, "hello"),
    "definition_base_value_negative": lambda h: h["definitions"][0]["$definition"].__setitem__(
        "base_value", {"$float": (-1.0).hex()}),
    "definition_base_value_none": lambda h: h["definitions"][0]["$definition"].__setitem__("base_value", None),
    "seq_beyond_int64": lambda h: h.__setitem__("seq", 2**70),
    "kind_unknown": lambda h: h.__setitem__("kind", "Portfolio"),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_resigned_header_is_validated_field_by_field(saved, name):
    bad = _resign(saved, CRAFTED[name])
    with pytest.raises(CorruptStateError, match=r"^<bytes>: "):
        persist.loads(bad)


def test_deeply_nested_header_is_corrupt_not_recursion(saved):
    header, section = _split(saved)
    text = json.dumps(header, separators=(",", ":"))
    deep = '{"$list":[' * 100_000 + "]}" * 100_000
    crafted = text.replace('"dividends":[', '"dividends":[' + deep + ",", 1).encode("ascii")
    with pytest.raises(CorruptStateError, match="inconsistent header"):
        persist.loads(_frame(crafted, section))
    nested = '{"$list":[' * 40 + "]}" * 40  # fits json, beyond the decoder's depth bound
    crafted = text.replace('"dividends":[', '"dividends":[' + nested + ",", 1).encode("ascii")
    with pytest.raises(CorruptStateError, match="nested deeper"):
        persist.loads(_frame(crafted, section))


def test_a_value_too_deep_to_load_is_not_saved():
    e = kf.IndexEngine(kf.sample_universe())
    deep: object = 1
    for _ in range(40):
        deep = (deep,)
    with pytest.raises(TypeError, match="nested deeper"):
        e.apply_events([CashDividend(e.universe.codes[0], 1.0, effective=deep)])
    assert e.audit == []


# ---------------------------------------------------------------- save never writes what load refuses
@pytest.mark.parametrize("kwargs,msg", [
    (dict(base_cap=5e-324), r"`base_cap` = 5e-324 gives a divisor of 0.0"),
    (dict(level=1e-320), r"`level` = 1e-320 gives a divisor of inf"),
    (dict(level=10**400), r"`level` must be a finite number > 0 \(within float64\)"),
])
def test_calibration_that_cannot_be_stored_is_refused(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        kf.IndexEngine(kf.sample_universe(), **kwargs)


def test_family_calibration_that_cannot_be_stored_is_refused():
    u = kf.sample_universe()
    with pytest.raises(ValueError, match=r"index 'X': `base_cap` = 5e-324 gives a divisor of 0.0"):
        kf.IndexFamily(u, [kf.IndexDefinition("X", list(u.codes[:5]), base_cap=5e-324)])


@pytest.mark.parametrize("args,msg", [
    ((5e-324, 1e300, 1), r"out of the float64 range \(got 0.0\)"),
    ((1e308, 1, 1e300), r"out of the float64 range \(got inf\)"),
    ((1.0, 10**400, 1), r"`cap_before` must be a finite number > 0 \(within float64\)"),
])
def test_rebase_divisor_out_of_range(args, msg):
    with pytest.raises(ValueError, match=msg):
        kf.rebase_divisor(*args)


@pytest.mark.parametrize("make,msg", [
    (lambda c: ([CashDividend(c, 1.0)], dict(date=object())), r"`date`: cannot persist"),
    (lambda c: ([AdditionalListing(c, 10, reason=object())], {}), r"`events\[0\]`.reason: cannot persist"),
    (lambda c: ([Split(c, 10, effective=[1])], {}), r"`events\[0\]` holds an unhashable value"),
])
def test_unstorable_event_values_are_refused_when_applied(make, msg, tmp_path):
    e = kf.IndexEngine(kf.sample_universe(), level=5781.2)
    before = persist.dumps(e)
    events, kw = make(e.universe.codes[0])
    with pytest.raises(TypeError, match=msg):
        e.apply_events(events, **kw)
    with pytest.raises(TypeError, match=msg):
        e.roll(events, **kw)
    assert _split(persist.dumps(e))[0]["audit"] == _split(before)[0]["audit"] == []
    e.save(tmp_path / "s.kfs")  # still savable
    assert kf.IndexEngine.load(tmp_path / "s.kfs").level == e.level


def test_engine_exactly_at_the_int64_limit_saves_and_loads(tmp_path):
    u = kf.Universe(["000001", "000002"], ["A", "B"], [10**12] * 2, [1000] * 2)
    e = kf.IndexEngine(u, price_band=None)
    top = (2**63 - 1 - 1000 * 10**12) // 10**12  # stock 0's largest price that fits
    e.update_id(0, top)
    room = (2**63 - 1 - e.cap) // 10**12
    e.update_id(1, 1000 + room)  # the cap is now within 10**12 of int64's maximum
    assert e.cap > 2**63 - 1 - 10**12 and e.recompute() == e.level
    e.save(tmp_path / "b.kfs")
    assert kf.IndexEngine.load(tmp_path / "b.kfs").cap == e.cap
    with pytest.raises(ValueError, match="would overflow"):
        e.update_id(0, top + 1)


# ---------------------------------------------------------------- journal: corruption vs torn tail
def _journal(tmp_path, n_records=3, size=20):
    path = tmp_path / "j"
    rng = np.random.default_rng(1)
    with Journal(path) as j:
        for _ in range(n_records):
            j.append(rng.integers(0, 800, size), rng.integers(1000, 100_000, size) * 10)
    return path


@pytest.mark.parametrize("where", ["payload_last_byte", "payload_middle", "header_count", "header_magic",
                                   "header_seq", "commit_marker"])
def test_bit_flip_in_last_acknowledged_record_is_corruption(tmp_path, where):
    path = _journal(tmp_path)
    data = bytearray(path.read_bytes())
    last = len(data) - (32 + 2 * 20 * 8 + 8)
    at = {"payload_last_byte": len(data) - 9, "payload_middle": last + 100, "header_count": last + 16,
          "header_magic": last + 1, "header_seq": last + 8, "commit_marker": len(data) - 6}[where]
    data[at] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptStateError, match="not a torn tail|not torn") as info:
        Journal.read(path)
    assert str(path) in str(info.value)
    with pytest.raises(CorruptStateError):
        Journal(path)  # nor is it cut off as a torn tail when reopened


def test_unwritten_end_of_last_record_is_a_torn_tail(tmp_path):
    path = _journal(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-50] + bytes(50))  # the size reached the disk, the last blocks did not
    assert [r.seq for r in Journal.read(path)] == [1, 2]


# ---------------------------------------------------------------- the magic first; stale temporaries
@pytest.mark.parametrize("reader", [persist.load, Journal.read])
def test_a_large_foreign_file_is_refused_without_reading_it_whole(tmp_path, reader):
    big = tmp_path / "big.bin"
    with open(big, "wb") as fh:
        fh.truncate(64 << 20)  # 64 MiB of zeros (sparse)
    tracemalloc.start()
    try:
        with pytest.raises(CorruptStateError, match="bad magic"):
            reader(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_temporaries_of_dead_writers_are_swept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    pid = int(dead.stdout)
    state = tmp_path / "state.kfs"
    stale = [tmp_path / f"state.kfs.tmp-{pid}-{k}" for k in range(3)]
    live = tmp_path / f"state.kfs.tmp-{os.getpid()}-999"
    other = tmp_path / f"other.kfs.tmp-{pid}-0"
    for p in (*stale, live, other):
        p.write_bytes(b"half a checkpoint")
    e = kf.IndexEngine(kf.sample_universe())
    e.save(state)
    assert not any(p.exists() for p in stale)
    assert live.exists() and other.exists()  # a live writer's, and another file's
    # recovery sweeps the checkpoint's and the journal's temporaries too
    book = persist.JournaledBook.create(e, tmp_path / "s2.kfs", tmp_path / "j2")
    book.close()
    stale2 = [tmp_path / f"s2.kfs.tmp-{pid}-0", tmp_path / f"j2.tmp-{pid}-1"]
    for p in stale2:
        p.write_bytes(b"x")
    book, _ = persist.JournaledBook.recover(tmp_path / "s2.kfs", tmp_path / "j2")
    book.close()
    assert not any(p.exists() for p in stale2)
