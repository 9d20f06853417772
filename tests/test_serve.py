"""``kospi-fast serve`` with real clients over loopback: a ZeroMQ SUB and a WebSocket client get
every print of a day replayed at high speed, in order, equal to the batch replay's grid; a
malformed input message is counted and skipped; clients that disconnect and reconnect do not
stop the server; the live page, rendered by headless Chromium, shows the latest level; NDJSON
on stdin."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import kospi_fast as kf
from kospi_fast.session import TradingDay

zmq = pytest.importorskip("zmq")
aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("pyarrow")
import zmq.asyncio  # noqa: E402

from kospi_fast import io  # noqa: E402

NS = 1_000_000_000
LEVEL = 5781.20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Serve:
    """A ``kospi-fast serve`` process; its stdout lines are collected by a thread."""

    def __init__(self, *args: str, stdin: bool = False) -> None:
        self.zmq_pub = f"tcp://127.0.0.1:{free_port()}"
        cmd = [sys.executable, "-m", "kospi_fast.cli", "serve", "--no-calendar", "--level", str(LEVEL),
               "--http-port", "0", "--zmq-pub", self.zmq_pub, *args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     stdin=subprocess.PIPE if stdin else subprocess.DEVNULL)
        self.lines: list[str] = []
        self.err: list[str] = []
        self.readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err), daemon=True)]
        for r in self.readers:
            r.start()
        line = self.wait_line("http://")
        self.http = "http://" + re.search(r"http://([\d.]+:\d+)/", line).group(1)

    @staticmethod
    def _read(stream, out):
        for line in stream:
            out.append(line)

    def wait_line(self, text: str, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in self.lines:
                if text in line:
                    return line
            if self.proc.poll() is not None and not any(text in x for x in self.lines):
                time.sleep(0.2)
                if not any(text in x for x in self.lines):
                    raise AssertionError(f"serve exited {self.proc.returncode}: {''.join(self.lines + self.err)}")
            time.sleep(0.02)
        raise AssertionError(f"no line with {text!r} in {timeout} s: {''.join(self.lines + self.err)}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)
        for r in self.readers:
            r.join(timeout=10)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                f.close()


@pytest.fixture(scope="module")
def day_file(tmp_path_factory):
    u = kf.sample_universe()
    day = kf.simulate_day(u, seed=1)
    path = tmp_path_factory.mktemp("serve") / "day.parquet"
    io.write_ticks(day, path)
    td = TradingDay(kf.IndexEngine(u, level=LEVEL), day.date, policy="reject", check_calendar=False)
    td.feed(day.times, day.ids, day.prices)
    return path, td.series(10)


async def _zmq_prints(addr: str, out: list, stop: asyncio.Event, ctx) -> None:
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(addr)
    try:
        while True:
            if await sub.poll(100):
                topic, data = await sub.recv_multipart()
                p = json.loads(data)
                assert topic.decode() == p["index"]
                out.append(p)
                if p["close"]:
                    return
            elif stop.is_set():  # stopped, and nothing more arrived for 0.1 s
                return
    finally:
        sub.close(linger=0)


async def _ws_prints(url: str, out: list, stop: asyncio.Event, limit: int | None = None) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        async for msg in ws:
            m = json.loads(msg.data)
            if m["type"] == "print":
                out.append(m["print"])
                if m["print"]["close"] or (limit is not None and len(out) >= limit) or stop.is_set():
                    return


async def _until(base: str, cond, timeout: float = 60.0) -> dict:
    """Poll /api/state until ``cond(state)`` (the server's own count of its clients)."""
    end = time.monotonic() + timeout
    while True:
        st = await _state(base)
        if cond(st):
            return st
        if time.monotonic() > end:
            raise AssertionError(f"condition not reached: {st['stats']}")
        await asyncio.sleep(0.02)


async def _state(base: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(base + "/api/state") as r:
        return await r.json()


def test_zmq_and_websocket_clients_get_every_print_of_a_fast_replay(day_file):
    path, ser = day_file
    srv = Serve("--ticks", str(path), "--speed", "0", "--wait-clients", "2", "--linger", "1")
    try:
        async def main():
            ctx = zmq.asyncio.Context()
            stop = asyncio.Event()
            zp: list = []
            wp: list = []
            tasks = [asyncio.ensure_future(_zmq_prints(srv.zmq_pub, zp, stop, ctx)),
                     asyncio.ensure_future(_ws_prints(srv.http.replace("http", "ws") + "/ws", wp, stop))]
            await asyncio.wait_for(asyncio.gather(*tasks), 90)
            ctx.term()
            return zp, wp

        zp, wp = asyncio.run(main())
        for got in (zp, wp):
            assert [p["time_ns"] for p in got] == ser.times.tolist()  # every print, in order
            assert [p["level"] for p in got] == ser.values.tolist()  # equal to the batch replay's grid
            assert got[0]["time"] == "2026-03-23T09:00:10+09:00" and got[-1]["close"]
        srv.wait_line("2340 prints")
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _dump_dom(url: str) -> str:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI") == "true":
            raise AssertionError("chromium is not installed (.ci/run installs Debian's package)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--virtual-time-budget=4000", "--dump-dom", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    return out.stdout


def test_malformed_messages_reconnecting_clients_and_the_live_page():
    in_addr = f"tcp://127.0.0.1:{free_port()}"
    srv = Serve("--zmq-in", in_addr, "--idle-close", "60")
    try:
        async def main():
            ctx = zmq.asyncio.Context()
            feed = ctx.socket(zmq.PUB)
            feed.connect(in_addr)
            base = srv.http
            # the input SUB binds and the feed connects: ping until the server has seen one
            for _ in range(1500):
                await feed.send(b'{"ping": 1}')
                if (await _state(base))["stats"]["messages"] > 0:
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError("the server's SUB socket never got a message")
            bad = [b"not json", b"[1, 2]", b'{"t": "25:00", "code": "005930", "price": 70000}',
                   b'{"t": 32400000000000, "code": 5930, "price": 70000}',  # an int is never a code
                   b'{"t": 32400000000000, "id": 0}', b'{"t": [1, 2], "id": [0], "price": [1, 2]}',
                   b'{"t": 32400000000000, "id": 0, "price": 70000.5}', b"\xff\xfe"]
            for m in bad:
                await feed.send(m)
            stop = asyncio.Event()
            first: list = []
            ws1 = asyncio.ensure_future(_ws_prints(base.replace("http", "ws") + "/ws", first, stop, limit=2))
            await _until(base, lambda st: st["stats"]["ws_clients"] == 1)
            u = kf.sample_universe()
            code0 = u.codes[0]
            p0 = int(u.base_prices[0])
            await feed.send(json.dumps({"t": "09:00:00", "code": code0, "price": p0 + 100}).encode())
            await feed.send(json.dumps({"t": [32_405 * NS, 32_406 * NS], "id": [1, 2],
                                        "price": [int(u.base_prices[1]), int(u.base_prices[2])]}).encode())
            await feed.send(json.dumps({"t": "09:00:07", "code": "999999", "price": 1000}).encode())  # BAD_ID
            await feed.send(b'{"advance_to": "09:00:25"}')
            await asyncio.wait_for(ws1, 30)  # then the client goes away
            assert [p["time"][11:19] for p in first] == ["09:00:10", "09:00:20"]
            await _until(base, lambda st: st["stats"]["ws_clients"] == 0)
            # a second WebSocket client and a ZeroMQ subscriber, after the first left
            second: list = []
            zp: list = []
            ws2 = asyncio.ensure_future(_ws_prints(base.replace("http", "ws") + "/ws", second, stop, limit=3))
            zt = asyncio.ensure_future(_zmq_prints(srv.zmq_pub, zp, stop, ctx))
            await _until(base, lambda st: st["stats"]["ws_clients"] == 1 and st["stats"]["zmq_subscribers"] == 1)
            await feed.send(json.dumps({"t": "09:00:31", "code": code0, "price": p0 + 200}).encode())
            await feed.send(b'{"advance_to": "09:00:55"}')
            await asyncio.wait_for(ws2, 30)
            stop.set()
            await zt  # the subscriber goes away ...
            await _until(base, lambda st: st["stats"]["zmq_subscribers"] == 0)
            again: list = []  # ... and comes back
            stop2 = asyncio.Event()
            zt2 = asyncio.ensure_future(_zmq_prints(srv.zmq_pub, again, stop2, ctx))
            await _until(base, lambda st: st["stats"]["zmq_subscribers"] == 1)
            await feed.send(b'{"advance_to": "09:01:05"}')
            for _ in range(200):
                if len(again) >= 2:
                    break
                await asyncio.sleep(0.02)
            stop2.set()
            await zt2
            zp.extend(again)
            st = await _state(base)
            await feed.send(b'{"end": true}')  # the day ends: the server exits
            feed.close(linger=0)
            ctx.term()
            return first, second, zp, st

        first, second, zp, st = asyncio.run(main())
        assert [p["time"][11:19] for p in second] == ["09:00:30", "09:00:40", "09:00:50"]
        assert [p["time"][11:19] for p in zp][:4] == ["09:00:30", "09:00:40", "09:00:50", "09:01:00"]
        assert st["stats"]["malformed"] == 8
        assert st["counts"] == {"applied": 4, "id out of range": 1}
        latest = st["latest"]["KOSPI"]
        assert latest["time"].endswith("09:01:00+09:00") and latest["level"] == second[-1]["level"]
        srv.wait_line("malformed", timeout=60)  # {"end": true}: the day ends, the server exits cleanly
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()


@pytest.mark.browser
def test_the_live_page_in_headless_chromium_shows_the_latest_level():
    srv = Serve("--stdin", stdin=True)
    try:
        u = kf.sample_universe()
        up = [int(kf.krx.round_to_tick(int(u.base_prices[k]) * 1.01, date="2026-03-23")) for k in range(3)]
        lines = [json.dumps({"t": "09:00:00", "code": u.codes[k], "price": up[k]}) for k in range(3)]
        lines += ['{"advance_to": "09:00:35"}']
        srv.proc.stdin.write("\n".join(lines) + "\n")
        srv.proc.stdin.flush()

        async def latest():
            for _ in range(500):
                st = await _state(srv.http)
                if "KOSPI" in st["latest"] and st["latest"]["KOSPI"]["time"].endswith("09:00:30+09:00"):
                    return st
                await asyncio.sleep(0.02)
            raise AssertionError(st)

        st = asyncio.run(latest())
        level = st["latest"]["KOSPI"]["level"]
        dom = _dump_dom(srv.http + "/")
        m = re.search(r'id="level-KOSPI"[^>]*>([^<]+)<', dom)
        assert m, dom[:2000]
        assert m.group(1) == f"{level:,.2f}" and level != LEVEL
        assert "breadth: 3 up, 0 down" in dom and "top contributors" in dom, re.findall(r"breadth[^<]*|level-KOSPI[^<]*", dom)
        assert "09:00:30" in dom and "2026-03-23" in dom
        srv.proc.stdin.close()
        srv.wait_line("malformed")
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()


def test_ndjson_on_stdin():
    srv = Serve("--stdin", stdin=True)
    try:
        u = kf.sample_universe()
        lines = [json.dumps({"t": "09:00:00", "code": u.codes[k], "price": int(u.base_prices[k])}) for k in range(5)]
        lines += ["{oops", json.dumps({"t": "09:00:01", "id": 3, "price": 7}), '{"advance_to": "09:00:20"}', ""]
        srv.proc.stdin.write("\n".join(lines) + "\n")
        srv.proc.stdin.close()
        line = srv.wait_line("malformed")
        assert "8 messages, 6 trades, 1 malformed" in line and "2340 prints" in line
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()


def test_parse_message_worked_examples():
    from kospi_fast.server import MalformedMessage, parse_message

    codes = {"005930": 0, "000660": 1}
    assert parse_message({"t": "09:00:01.5", "code": "005930", "price": 70100}, codes) == (
        "trade", (32_401_500_000_000, 0, 70100, "KRX"))
    assert parse_message({"t": 1, "code": "123456", "price": 5, "venue": "NXT"}, codes) == ("trade", (1, -1, 5, "NXT"))
    kind, (t, i, p, v) = parse_message({"t": [1, 2], "id": [1, 0], "price": [5, 6], "venue": ["KRX", "NXT"]}, codes)
    assert kind == "batch" and t.tolist() == [1, 2] and i.tolist() == [1, 0] and v.tolist() == ["KRX", "NXT"]
    assert parse_message({"advance_to": "15:31"}, codes) == ("advance", 55_860 * NS)
    assert parse_message({"end": True}, codes) == ("end", None)
    for bad in ({"t": 1, "code": 5930, "price": 1}, {"t": 1, "id": "0", "price": 1}, {"t": 1, "price": 1},
                {"t": 1, "id": 0, "code": "005930", "price": 1}, {"t": -1, "id": 0, "price": 1},
                {"t": [2, 1], "id": [0, 0], "price": [1, 1]}, {"t": 1, "id": 0, "price": 1, "x": 0}, [1]):
        with pytest.raises(MalformedMessage):
            parse_message(bad, codes)
    assert isinstance(np.int64(1), np.integer)


def test_serve_several_indices_each_on_its_grid(tmp_path):
    u = kf.sample_universe()
    members = tmp_path / "k200.txt"
    members.write_text("\n".join(u.codes[:200]) + "\n", encoding="utf-8")
    srv = Serve("--stdin", "--index", "KOSPI", "--index", "KOSPI 200", "--members", str(members),
                "--level", "KOSPI 200=812.5", stdin=True)
    try:
        up = int(kf.krx.round_to_tick(int(u.base_prices[0]) * 1.01, date="2026-03-23"))
        lines = [json.dumps({"t": "09:00:00", "code": u.codes[0], "price": up}), '{"advance_to": "09:00:12"}']
        srv.proc.stdin.write("\n".join(lines) + "\n")
        srv.proc.stdin.flush()

        async def prints():
            st = await _until(srv.http, lambda st: len(st["series"].get("KOSPI 200", {"t": []})["t"]) >= 2)
            return st

        st = asyncio.run(prints())
        assert [t % (60 * NS) // NS for t in st["series"]["KOSPI 200"]["t"]] == [10, 11]  # every second
        assert [t % (60 * NS) // NS for t in st["series"]["KOSPI"]["t"]] == [10]  # every 10 s
        assert st["series"]["KOSPI"]["level"][0] > LEVEL and st["series"]["KOSPI 200"]["level"][0] > 812.5
        assert st["indices"]["KOSPI 200"]["breadth"]["up"] == 1
        srv.proc.stdin.close()
        line = srv.wait_line("malformed")
        assert "0 malformed" in line and f"{2340 + 23391} prints" in line
        assert srv.proc.wait(timeout=30) == 0
    finally:
        srv.stop()
