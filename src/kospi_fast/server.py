"""``kospi-fast serve``: a :class:`~kospi_fast.live.Publisher` behind real transports.

Sources of trades (one per server): a tick file replayed at wall-clock speed × N
(:func:`replay_file_source`), NDJSON lines on stdin (:func:`stdin_source`), or a ZeroMQ SUB
socket (:func:`zmq_source`). Outputs: a ZeroMQ PUB socket (multipart ``[index name, JSON
print]``; an XPUB, so the server knows its subscribers), a WebSocket (``/ws``: JSON messages),
a JSON snapshot (``/api/state``) and a small live page (``/``: each index's chart of the day,
the latest prints, top contributors and breadth). Everything binds to 127.0.0.1 unless told
otherwise. Needs the ``serve`` extra (pyzmq, aiohttp).

An input message is one JSON object (a ZeroMQ frame, or a line of NDJSON):

* one trade: ``{"t": 32400000000000, "code": "005930", "price": 70100}`` — ``t`` in ns since
  midnight KST or ``"HH:MM:SS[.fff]"``; ``"code"`` (str) or ``"id"`` (int row of the universe;
  an int is never taken as a code); optional ``"venue"`` (default ``"KRX"``);
* a batch: the same keys with lists (``"venue"`` a list or one str);
* the clock: ``{"advance_to": t}``; the end of the day: ``{"end": true}`` (the remaining prints
  and the close go out, the source stops); a no-op ``{"ping": ...}``.

A malformed message (not JSON, wrong keys or types, a time that is not a KRX trade time) is
counted (``malformed``), logged (rate-limited) and skipped, never fatal. A trade that is
well-formed but breaks KRX's rules is rejected by the day and counted per reason (``counts``),
as in :class:`~kospi_fast.TradingDay` with policy "reject".
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time as _time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kospi_fast._clock import DAY_NS, NS_PER_S, parse_clock
from kospi_fast._optional import require
from kospi_fast.live import OFFICIAL_VENUE, Print, Publisher

__all__ = ["LIVE_PAGE", "MalformedMessage", "Server", "ServerStats", "parse_message"]

log = logging.getLogger("kospi_fast")

_EARLIEST_NS = 6 * 3600 * NS_PER_S  # a trade stamped earlier is another time encoding: one at a time


class MalformedMessage(ValueError):
    """An input message that is not a trade, a batch of trades or a control message."""


# --------------------------------------------------------------------------- messages
def _msg_time(v: object, where: str) -> int:
    if isinstance(v, str):
        try:
            return parse_clock(v)
        except ValueError as exc:
            raise MalformedMessage(f"{where}: {exc}") from None
    if isinstance(v, bool) or not isinstance(v, int):
        raise MalformedMessage(f"{where} must be int ns since midnight KST or 'HH:MM:SS[.fff]', got {v!r}")
    if not 0 <= v < DAY_NS:
        raise MalformedMessage(f"{where} = {v} is not ns since midnight KST")
    return v


def parse_message(msg: object, code_index: dict[str, int]) -> tuple[str, Any]:
    """One decoded JSON message -> ``("trade", (t, id, price, venue))``, ``("batch", (times,
    ids, prices, venues|None))``, ``("advance", t)``, ``("end", None)`` or ``("ping", None)``; else
    :class:`MalformedMessage` naming what is wrong. An unknown code is not malformed: it becomes
    id -1, which the day rejects as ``BAD_ID``."""
    if type(msg) is dict and len(msg) == 3:  # the common case first: one trade by id, KRX
        t, i, p = msg.get("t"), msg.get("id"), msg.get("price")
        if type(t) is int and type(i) is int and type(p) is int and 0 <= t < DAY_NS:
            return "trade", (t, i, p, OFFICIAL_VENUE)
    if not isinstance(msg, dict):
        raise MalformedMessage(f"a message must be a JSON object, got {type(msg).__name__}")
    if "ping" in msg:
        return "ping", None
    if msg.get("end") is True:
        return "end", None
    if "advance_to" in msg:
        return "advance", _msg_time(msg["advance_to"], "`advance_to`")
    keys = set(msg)
    if "t" not in msg or "price" not in msg or ("code" in msg) == ("id" in msg):
        raise MalformedMessage(f"a trade needs 't', 'price' and one of 'code'/'id', got keys {sorted(keys)}")
    extra = keys - {"t", "price", "code", "id", "venue"}
    if extra:
        raise MalformedMessage(f"unknown keys {sorted(extra)}")
    t, p = msg["t"], msg["price"]
    key = "code" if "code" in msg else "id"
    k = msg[key]
    venue = msg.get("venue", OFFICIAL_VENUE)
    if isinstance(t, list):
        n = len(t)
        if not (isinstance(p, list) and isinstance(k, list) and len(p) == n and len(k) == n):
            raise MalformedMessage("a batch needs 't', 'price' and 'code'/'id' lists of one length")
        if all(type(x) is int for x in t):  # ns: checked as one array
            times = np.array(t, dtype=np.int64) if n else np.empty(0, np.int64)
            if n and (int(times.min()) < 0 or int(times.max()) >= DAY_NS):
                raise MalformedMessage("`t` must hold ns since midnight KST")
        else:
            times = np.fromiter((_msg_time(x, "`t`") for x in t), dtype=np.int64, count=n)
        if key == "code":
            if not all(isinstance(c, str) for c in k):
                raise MalformedMessage("'code' must hold str codes (an int is never a code)")
            ids = np.fromiter((code_index.get(c, -1) for c in k), dtype=np.int64, count=n)
        else:
            if not all(type(i) is int for i in k):
                raise MalformedMessage("'id' must hold ints")
            ids = np.array(k, dtype=np.int64) if n else np.empty(0, np.int64)
        if not all(type(x) is int for x in p):
            raise MalformedMessage("'price' must hold ints of won")
        try:
            prices = np.array(p, dtype=np.int64) if n else np.empty(0, np.int64)
        except OverflowError:
            raise MalformedMessage("'price' must hold ints of won that fit int64") from None
        if n > 1 and (np.diff(times) < 0).any():
            raise MalformedMessage("a batch's times must be non-decreasing")
        if isinstance(venue, list):
            if len(venue) != n or not all(isinstance(v, str) for v in venue):
                raise MalformedMessage("'venue' must be a str or a list of str of the batch's length")
            venues = np.array(venue, dtype=object)
        elif isinstance(venue, str):
            venues = None if venue == OFFICIAL_VENUE else np.full(n, venue, dtype=object)  # type: ignore[assignment]
        else:
            raise MalformedMessage(f"'venue' must be a str, got {venue!r}")
        return "batch", (times, ids, prices, venues)
    tt = _msg_time(t, "`t`")
    if key == "code":
        if not isinstance(k, str):
            raise MalformedMessage(f"'code' must be a str (an int is never a code), got {k!r}")
        i = code_index.get(k, -1)
    else:
        if isinstance(k, bool) or not isinstance(k, int):
            raise MalformedMessage(f"'id' must be an int, got {k!r}")
        i = k
    if isinstance(p, bool) or not isinstance(p, int):
        raise MalformedMessage(f"'price' must be an int of won, got {p!r}")
    if not isinstance(venue, str):
        raise MalformedMessage(f"'venue' must be a str, got {venue!r}")
    return "trade", (tt, i, p, venue)


@dataclass
class ServerStats:
    """What the server has taken in and sent out."""

    messages: int = 0
    trades: int = 0
    malformed: int = 0
    prints: int = 0
    ws_clients: int = 0
    zmq_subscribers: int = 0
    started: float = field(default_factory=_time.time)


# --------------------------------------------------------------------------- the server
class Server:
    """A publisher with its outputs: ZeroMQ PUB (XPUB), WebSocket and the live page.

    Parameters
    ----------
    publisher : Publisher
    host : str
        Address of the HTTP/WebSocket server (default 127.0.0.1: this machine only).
    http_port : int
        0 picks a free port (see :attr:`http_port` once started).
    zmq_pub : str or None
        ZeroMQ endpoint the prints are published on (bound), e.g. ``tcp://127.0.0.1:5556``.
    history : bool
        Keep the day's prints for the page's charts and for clients that connect late.
    """

    def __init__(self, publisher: Publisher, *, host: str = "127.0.0.1", http_port: int = 8765,
                 zmq_pub: str | None = "tcp://127.0.0.1:5556") -> None:
        self.zmq = require("zmq", "serve", package="pyzmq", what="kospi-fast serve")
        self.web = require("aiohttp.web", "serve", package="aiohttp", what="kospi-fast serve")
        self.publisher = publisher
        self.host, self._http_port, self.zmq_pub_addr = host, int(http_port), zmq_pub
        self.stats = ServerStats()
        self.codes = publisher.day.book.universe.code_index
        self.history: dict[str, list[tuple[int, float]]] = {}
        self.latest: dict[str, dict] = {}
        self.recent: deque[dict] = deque(maxlen=50)
        self._ws: set = set()
        self._ws_queues: dict = {}
        self._pub: Any = None
        self._ctx: Any = None
        self._runner: Any = None
        self._malformed_logged = 0
        self.done = asyncio.Event()
        publisher.on_print(self._on_print)

    def __repr__(self) -> str:
        st = self.stats
        return (f"Server(http://{self.host}:{self._http_port}, zmq {self.zmq_pub_addr or 'off'}; "
                f"{st.trades:,} trades in, {st.malformed:,} malformed, {st.prints:,} prints out, "
                f"{st.ws_clients} WebSocket clients, {st.zmq_subscribers} ZeroMQ subscribers)")

    # ------------------------------------------------------------------ outputs
    def _on_print(self, p: Print) -> None:
        d = p.to_dict()
        self.stats.prints += 1
        self.history.setdefault(p.index, []).append((p.time_ns, p.level))
        self.latest[p.index] = d
        self.recent.append(d)
        data = json.dumps(d, separators=(",", ":"))
        if self._pub is not None:
            self._pub.send_multipart([p.index.encode(), data.encode()], copy=False)
        msg = '{"type":"print","print":' + data + "}"
        for q in self._ws_queues.values():
            if q.qsize() < 100_000:
                q.put_nowait(msg)

    def state(self) -> dict:
        """The snapshot the page and late clients read: every index's prints of the day so far,
        the latest print of each, the latest 50, top contributors and breadth, the counters."""
        pub = self.publisher
        day = pub.day
        return {
            "date": day.session.date.isoformat(),
            "series": {name: {"t": [t for t, _ in pts], "level": [v for _, v in pts]} for name, pts in self.history.items()},
            "latest": self.latest,
            "recent": list(self.recent)[::-1],
            "indices": _contributions(pub),
            "counts": day.counts,
            "stats": {"messages": self.stats.messages, "trades": self.stats.trades, "malformed": self.stats.malformed,
                      "prints": self.stats.prints, "ws_clients": self.stats.ws_clients,
                      "zmq_subscribers": self.stats.zmq_subscribers, "other_venue": pub.other_venue},
            "closed": pub.closed,
        }

    async def _ws_handler(self, request):
        web = self.web
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        q: asyncio.Queue = asyncio.Queue()
        self._ws_queues[ws] = q
        self.stats.ws_clients += 1
        log.info("websocket client connected (%d)", self.stats.ws_clients)
        try:
            await ws.send_str(json.dumps({"type": "state", "state": self.state()}))

            async def pump():
                while True:
                    m = await q.get()
                    if m is None:
                        await ws.close()
                        return
                    await ws.send_str(m)

            sender = asyncio.ensure_future(pump())
            async for _ in ws:  # the client may send nothing; we only watch for its close
                pass
            sender.cancel()
        except (ConnectionError, asyncio.CancelledError, RuntimeError) as exc:
            log.info("websocket client gone: %r", exc)
        finally:
            self._ws_queues.pop(ws, None)
            self.stats.ws_clients -= 1
        return ws

    async def _page(self, request):
        return self.web.Response(text=LIVE_PAGE, content_type="text/html")

    async def _state(self, request):
        return self.web.json_response(self.state())

    @property
    def http_port(self) -> int:
        return self._http_port

    async def start(self) -> None:
        """Bind the outputs (HTTP/WebSocket, ZeroMQ PUB)."""
        web = self.web
        app = web.Application()
        app.add_routes([web.get("/", self._page), web.get("/ws", self._ws_handler), web.get("/api/state", self._state)])
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._http_port)
        await site.start()
        self._http_port = site._server.sockets[0].getsockname()[1]  # the port bound (0: a free one)
        if self.zmq_pub_addr:
            import zmq.asyncio

            self._ctx = zmq.asyncio.Context()
            self._pub = self._ctx.socket(self.zmq.XPUB)
            self._pub.setsockopt(self.zmq.SNDHWM, 1_000_000)
            self._pub.bind(self.zmq_pub_addr)
            asyncio.ensure_future(self._watch_subscribers())
        log.info("serving on http://%s:%d (ws /ws), zmq pub %s", self.host, self._http_port, self.zmq_pub_addr)

    async def _watch_subscribers(self) -> None:
        """XPUB: a subscription message (first byte 1) per new subscriber, 0 when it leaves."""
        while self._pub is not None:
            try:
                msg = await self._pub.recv()
            except Exception:  # closed
                return
            if msg[:1] == b"\x01":
                self.stats.zmq_subscribers += 1
            elif msg[:1] == b"\x00":
                self.stats.zmq_subscribers -= 1

    async def wait_clients(self, n: int, timeout_s: float = 60.0) -> None:
        """Wait until ``n`` clients (ZeroMQ subscribers + WebSocket clients) are connected."""
        end = _time.monotonic() + timeout_s
        while self.stats.zmq_subscribers + self.stats.ws_clients < n:
            if _time.monotonic() > end:
                raise TimeoutError(f"{self.stats.zmq_subscribers + self.stats.ws_clients} of {n} clients after {timeout_s} s")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for q in self._ws_queues.values():
            q.put_nowait(None)
        await asyncio.sleep(0.05)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._pub is not None:
            pub, self._pub = self._pub, None
            pub.close(linger=2000)
        if self._ctx is not None:
            self._ctx.term()

    # ------------------------------------------------------------------ input
    def handle_many(self, raws: list) -> None:
        """Messages that were already queued, in order: runs of single KRX trades go to the
        publisher as one batch (the same statuses and prints as one by one, less overhead per
        trade when the server is behind); anything else as :meth:`handle`."""
        run_t: list[int] = []
        run_i: list[int] = []
        run_p: list[int] = []
        codes = self.codes
        for raw in raws:
            try:
                msg = json.loads(raw)
            except ValueError:
                msg = None
            if type(msg) is dict and len(msg) == 3:
                t, i, p = msg.get("t"), msg.get("id", None), msg.get("price")
                if i is None and type(msg.get("code")) is str:
                    i = codes.get(msg["code"], -1)
                if (type(t) is int and type(i) is int and type(p) is int and _EARLIEST_NS <= t < DAY_NS
                        and -(2**63) <= i < 2**63 and -(2**63) <= p < 2**63):
                    self.stats.messages += 1
                    run_t.append(t)
                    run_i.append(i)
                    run_p.append(p)
                    continue
            if run_t:
                self._feed_run(run_t, run_i, run_p)
                run_t, run_i, run_p = [], [], []
            self.handle(raw)
        if run_t:
            self._feed_run(run_t, run_i, run_p)

    def _feed_run(self, t: list[int], i: list[int], p: list[int]) -> None:
        if len(t) == 1:
            self.publisher.on_trade(t[0], i[0], p[0])
        else:
            self.publisher.feed(np.array(t, dtype=np.int64), np.array(i, dtype=np.int64), np.array(p, dtype=np.int64))
        self.stats.trades += len(t)

    def handle(self, raw: bytes | str) -> None:
        """One raw input message (JSON text); malformed ones are counted and skipped."""
        self.stats.messages += 1
        try:
            kind, val = parse_message(json.loads(raw), self.codes)
            pub = self.publisher
            if kind == "trade":
                t, i, p, venue = val
                pub.on_trade(t, i, p, venue=venue)
                self.stats.trades += 1
            elif kind == "batch":
                times, ids, prices, venues = val
                pub.feed(times, ids, prices, venues=venues)
                self.stats.trades += int(times.shape[0])
            elif kind == "advance":
                pub.advance_to(val)
            elif kind == "end":
                pub.close()
        except (ValueError, TypeError, KeyError, OverflowError) as exc:  # json errors are ValueErrors
            self.stats.malformed += 1
            if self._malformed_logged < 10 or self.stats.malformed % 1000 == 0:
                self._malformed_logged += 1
                log.warning("malformed message %d skipped: %s", self.stats.malformed, exc)


def _contributions(pub: Publisher, top: int = 10) -> dict:
    """Per printed index: top contributors (points since the previous close) and breadth."""
    book = pub.day.book
    inner = getattr(book, "engine", book)
    prices = np.asarray(inner.prices, dtype=np.int64)
    ref = np.asarray(inner.reference_prices, dtype=np.int64)
    u = inner.universe
    out = {}
    for name in pub._tracks[0].names:
        k = inner.index_of(name)
        if hasattr(inner, "divisors"):
            ids, sh = inner.index_shares(name)
            div = float(inner.divisors[k])
        else:
            sh_all = np.asarray(inner.index_shares)
            ids = np.flatnonzero(sh_all > 0)
            sh, div = sh_all[ids], float(inner.divisor)
        pts = (prices[ids] - ref[ids]).astype(np.float64) * sh / div
        pct = 100.0 * (prices[ids] / ref[ids] - 1.0)
        order = np.argsort(-np.abs(pts), kind="stable")[:top]
        out[name] = {
            "top": [{"code": u.codes[int(ids[j])], "name": u.names[int(ids[j])], "points": round(float(pts[j]), 4),
                     "pct": round(float(pct[j]), 3)} for j in order],
            "breadth": {"up": int((pct > 0).sum()), "down": int((pct < 0).sum()), "unchanged": int((pct == 0).sum())},
        }
    return out


# --------------------------------------------------------------------------- sources
async def zmq_source(server: Server, addr: str, *, bind: bool = True, idle_close_s: float | None = None) -> None:
    """Trades from a ZeroMQ SUB socket (subscribed to everything), one JSON message a frame
    (multipart: the last frame). Bound at ``addr`` (feeds connect their PUB) or connected."""
    import zmq.asyncio

    zmq = server.zmq
    ctx = zmq.asyncio.Context.instance()
    sock = ctx.socket(zmq.SUB)
    sock.setsockopt(zmq.SUBSCRIBE, b"")
    sock.setsockopt(zmq.RCVHWM, 1_000_000)
    (sock.bind if bind else sock.connect)(addr)
    log.info("reading trades from zmq SUB %s (%s)", addr, "bound" if bind else "connected")
    sync: Any = zmq.Socket.shadow(sock.underlying)  # the same socket, for draining without awaiting
    try:
        while not server.publisher.closed:
            if idle_close_s is not None:
                if not await sock.poll(int(idle_close_s * 1000)):
                    break
            frames = await sock.recv_multipart()
            queued = [frames[-1]]
            # what is already queued, taken without a round trip through the loop per message
            for _ in range(10_000):
                try:
                    queued.append(sync.recv_multipart(flags=zmq.NOBLOCK)[-1])
                except zmq.Again:
                    break
            server.handle_many(queued)
    finally:
        sock.close(linger=0)


async def stdin_source(server: Server, stream: Any = None) -> None:
    """Trades as NDJSON lines on stdin (or ``stream``, a binary file); ends at end of input."""
    stream = stream or sys.stdin.buffer
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, stream.readline)
        if not line:
            return
        if line.strip():
            server.handle(line)


async def replay_file_source(server: Server, batch, *, speed: float = 1.0, max_batch: int = 65_536) -> None:
    """Trades of a tick file (a :class:`~kospi_fast.io.TickBatch`) replayed at wall-clock speed
    × ``speed`` (0: as fast as possible), the clock advanced as it goes (prints are due even
    between trades)."""
    times, ids, prices = batch.times, batch.ids, batch.prices
    n = times.shape[0]
    pub = server.publisher
    if n == 0:
        return
    t0 = int(times[0])
    w0 = _time.monotonic_ns()
    k = 0
    while k < n:
        if speed > 0:
            sim_now = t0 + int((_time.monotonic_ns() - w0) * speed)
            hi = int(np.searchsorted(times, sim_now, side="right"))
            hi = min(max(hi, k), k + max_batch)
        else:
            sim_now = None
            hi = min(k + max_batch, n)
        if hi > k:
            pub.feed(times[k:hi], ids[k:hi], prices[k:hi])
            server.stats.trades += hi - k
            server.stats.messages += 1
            k = hi
        if sim_now is not None and sim_now < DAY_NS:
            pub.advance_to(max(sim_now, 0) if k >= n or sim_now < int(times[k]) else int(times[k]))
        if speed > 0 and k < n:
            due = (int(times[k]) - t0) / speed  # ns of wall time after w0
            wait = max(due - (_time.monotonic_ns() - w0), 0) / NS_PER_S
            await asyncio.sleep(min(max(wait, 0.001), 0.25))
        else:
            await asyncio.sleep(0)


# --------------------------------------------------------------------------- the page
LIVE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kospi-fast live</title>
<style>
body{font-family:system-ui,sans-serif;margin:1em;background:#fafafa;color:#222}
h1{font-size:1.2em} .cards{display:flex;flex-wrap:wrap;gap:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em;min-width:340px}
.level{font-size:1.8em;font-weight:600} .up{color:#c62828} .down{color:#1565c0}
table{border-collapse:collapse;font-size:.85em} td,th{padding:2px 6px;text-align:right}
td:first-child,th:first-child{text-align:left} svg{background:#fff}
#status{font-size:.8em;color:#666}
</style></head>
<body>
<h1>kospi-fast live <span id="date"></span> <span id="status">connecting…</span></h1>
<div class="cards" id="cards"></div>
<h2>Latest prints</h2>
<table id="recent"><thead><tr><th>index</th><th>time (KST)</th><th>level</th><th>change</th><th>stale</th><th>halted</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
const S = {series:{}, latest:{}, recent:[], indices:{}};
const fmt = v => v.toLocaleString("en-US",{minimumFractionDigits:2,maximumFractionDigits:2});
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}[c]));
const idOf = name => name.replace(/[^A-Za-z0-9]+/g, "-");
function card(name){
  let el = document.getElementById("card-"+idOf(name));
  if(!el){
    el = document.createElement("div"); el.className="card"; el.id="card-"+idOf(name);
    el.innerHTML = `<div>${esc(name)}</div><div class="level" id="level-${idOf(name)}">–</div>`+
      `<div id="change-${idOf(name)}"></div><svg id="chart-${idOf(name)}" width="340" height="120"></svg>`+
      `<div id="breadth-${idOf(name)}"></div><table id="top-${idOf(name)}"></table>`;
    document.getElementById("cards").appendChild(el);
  }
  return el;
}
function chart(name){
  const s = S.series[name]; if(!s || !s.t.length) return;
  const svg = document.getElementById("chart-"+idOf(name)); const W=340,H=120;
  const t0=s.t[0], t1=Math.max(s.t[s.t.length-1], t0+1);
  let lo=Math.min(...s.level), hi=Math.max(...s.level); if(hi===lo){hi+=1;lo-=1;}
  const step = Math.max(1, Math.floor(s.t.length/600)); let d="";
  for(let i=0;i<s.t.length;i+=step){const x=(s.t[i]-t0)/(t1-t0)*(W-4)+2, y=H-2-(s.level[i]-lo)/(hi-lo)*(H-4);
    d += (d?"L":"M")+x.toFixed(1)+","+y.toFixed(1);}
  svg.innerHTML = `<path d="${d}" fill="none" stroke="#333" stroke-width="1.2"/>`;
}
function show(p){
  card(p.index);
  const lv = document.getElementById("level-"+idOf(p.index));
  lv.textContent = fmt(p.level); lv.className = "level "+(p.change>0?"up":p.change<0?"down":"");
  lv.dataset.level = p.level;
  document.getElementById("change-"+idOf(p.index)).textContent =
    (p.change>=0?"+":"")+fmt(p.change)+" ("+p.change_pct.toFixed(2)+"%) at "+p.time.slice(11,19)+(p.close?" close":"")+
    (p.series==="indicative"?" — indicative, not official":"");
}
function recent(){
  document.querySelector("#recent tbody").innerHTML = S.recent.slice(0,20).map(p =>
    `<tr><td>${esc(p.index)}</td><td>${p.time.slice(11,19)}</td><td>${fmt(p.level)}</td><td>${fmt(p.change)}</td><td>${p.stale}</td><td>${p.halted}</td></tr>`).join("");
}
function extras(){
  for(const [name, x] of Object.entries(S.indices)){
    card(name);
    document.getElementById("breadth-"+idOf(name)).textContent =
      `breadth: ${x.breadth.up} up, ${x.breadth.down} down, ${x.breadth.unchanged} unchanged`;
    document.getElementById("top-"+idOf(name)).innerHTML = "<tr><th>top contributors</th><th>pts</th><th>%</th></tr>"+
      x.top.slice(0,5).map(c=>`<tr><td>${esc(c.name)} (${esc(c.code)})</td><td>${c.points.toFixed(2)}</td><td>${c.pct.toFixed(2)}</td></tr>`).join("");
  }
}
function load(st){
  S.series = st.series; S.recent = st.recent; S.indices = st.indices;
  document.getElementById("date").textContent = st.date;
  for(const p of Object.values(st.latest)) show(p);
  for(const name of Object.keys(S.series)) chart(name);
  recent(); extras();
}
async function refresh(){ try{ const r = await fetch("/api/state"); load(await r.json()); }catch(e){} }
function connect(){
  const ws = new WebSocket((location.protocol==="https:"?"wss://":"ws://")+location.host+"/ws");
  ws.onopen = () => document.getElementById("status").textContent = "live";
  ws.onclose = () => { document.getElementById("status").textContent = "reconnecting…"; setTimeout(connect, 1000); };
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if(m.type==="state"){ load(m.state); return; }
    const p = m.print; (S.series[p.index] = S.series[p.index] || {t:[],level:[]});
    S.series[p.index].t.push(p.time_ns); S.series[p.index].level.push(p.level);
    S.recent.unshift(p); S.recent.length = Math.min(S.recent.length, 50);
    show(p); chart(p.index); recent();
  };
}
refresh().then(connect);
setInterval(async () => { try{ const r = await fetch("/api/state"); const st = await r.json(); S.indices = st.indices; extras(); }catch(e){} }, 2000);
</script>
</body></html>
"""
