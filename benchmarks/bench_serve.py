"""``kospi-fast serve`` over loopback ZeroMQ (issue 15): sustained input rate with one trade per
message and with batched messages, and tick-to-print latency (p50/p99) at a paced rate.

Run from the repository root (needs the ``serve`` extra)::

    PYTHONPATH=src python benchmarks/bench_serve.py [--trades 300000] [--rate 50000] [--seconds 10]

The server is a real ``kospi-fast serve --zmq-in`` process (KOSPI over the bundled sample
universe); this process feeds it through a ZeroMQ PUB socket and reads its prints from its PUB
socket. The trades are the simulated day's (ids, prices), re-stamped every ``--step-ms`` of
trade time so that the 10 s print grid is crossed every ``10 s / step`` trades.

* **Input rate**: all messages are sent unpaced (pre-encoded JSON); the rate is the trades the
  server has taken (``/api/state``) divided by the time from the first send to the last trade
  taken. The server's CPU is the bound (the sender is faster).
* **Latency**: trades paced at ``--rate`` per second, one per message; a print at grid time g is
  due when the first trade stamped after g arrives; its latency is the time from sending that
  trade to receiving the print on a SUB socket (both read on this process's monotonic clock).
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request

import numpy as np
import zmq

import kospi_fast as kf

NS = 1_000_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self) -> None:
        self.zin = f"tcp://127.0.0.1:{free_port()}"
        self.zpub = f"tcp://127.0.0.1:{free_port()}"
        cmd = [sys.executable, "-m", "kospi_fast.cli", "serve", "--zmq-in", self.zin, "--zmq-pub", self.zpub,
               "--http-port", "0", "--no-calendar", "--level", "5781.20", "--log-level", "WARNING"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        self.http = "http://" + re.search(r"http://([\d.]+:\d+)/", line).group(1)

    def state(self) -> dict:
        with urllib.request.urlopen(self.http + "/api/state", timeout=30) as r:
            return json.load(r)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


def connect_feed(ctx, srv: Server):
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.SNDHWM, 0)
    pub.connect(srv.zin)
    while srv.state()["stats"]["messages"] == 0:  # the SUB binds: wait until a message gets through
        pub.send(b'{"ping": 1}')
        time.sleep(0.02)
    return pub


def trades(n: int, step_ns: int, start_ns: int):
    u = kf.sample_universe()
    day = kf.simulate_day(u, seed=1)
    ids = day.ids[:n].astype(np.int64)
    prices = day.prices[:n].astype(np.int64)
    times = start_ns + step_ns * np.arange(n, dtype=np.int64)
    return times, ids, prices


def wait_taken(srv: Server, n: int, timeout: float = 600.0) -> float:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if srv.state()["stats"]["trades"] >= n:
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(f"server took {srv.state()['stats']['trades']} of {n} trades")


def input_rate(n: int, batch: int, step_ns: int) -> dict:
    srv = Server()
    ctx = zmq.Context()
    try:
        pub = connect_feed(ctx, srv)
        t, i, p = trades(n, step_ns, 9 * 3600 * NS)
        if batch == 1:
            msgs = [json.dumps({"t": a, "id": b, "price": c}).encode() for a, b, c in zip(t.tolist(), i.tolist(), p.tolist())]
        else:
            msgs = [json.dumps({"t": t[k:k + batch].tolist(), "id": i[k:k + batch].tolist(),
                                "price": p[k:k + batch].tolist()}).encode() for k in range(0, n, batch)]
        st0 = srv.state()
        assert st0["stats"]["trades"] == 0
        t0 = time.perf_counter()
        for m in msgs:
            pub.send(m)
        t_sent = time.perf_counter()
        t_done = wait_taken(srv, n)
        st = srv.state()
        assert st["stats"]["malformed"] == 0 and st["counts"] == {"applied": n}, st["counts"]
        pub.close(linger=0)
        return {"batch": batch, "trades": n, "messages": len(msgs), "send_s": t_sent - t0, "total_s": t_done - t0,
                "trades_per_s": n / (t_done - t0), "messages_per_s": len(msgs) / (t_done - t0)}
    finally:
        srv.stop()


def _receive(addr: str, conn, ready) -> None:
    """In its own process (no GIL shared with the paced sender): (print time_ns, receive ns)."""
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.connect(addr)
    ready.set()
    got = []
    while True:
        if sub.poll(100):
            _, data = sub.recv_multipart()
            got.append((json.loads(data)["time_ns"], time.perf_counter_ns()))
        elif conn.poll():
            break
    conn.send(got)
    sub.close(linger=0)
    ctx.term()


def latency(rate: float, seconds: float, step_ns: int) -> dict:
    import multiprocessing as mp

    srv = Server()
    ctx = zmq.Context()
    try:
        pub = connect_feed(ctx, srv)
        here, there = mp.Pipe()
        ready = mp.Event()
        rx = mp.Process(target=_receive, args=(srv.zpub, there, ready))
        rx.start()
        ready.wait(30)
        while srv.state()["stats"]["zmq_subscribers"] < 1:
            time.sleep(0.01)
        n = int(rate * seconds)
        start = 9 * 3600 * NS
        t, i, p = trades(n, step_ns, start)
        msgs = [json.dumps({"t": a, "id": b, "price": c}).encode() for a, b, c in zip(t.tolist(), i.tolist(), p.tolist())]
        sent = np.zeros(n, dtype=np.int64)
        gap = NS / rate
        t0 = time.perf_counter_ns()
        for k in range(n):
            due = t0 + int(k * gap)
            now = time.perf_counter_ns()
            if due - now > 300_000:  # sleep when far ahead, spin the last fraction of a ms
                time.sleep((due - now - 200_000) / NS)
            while time.perf_counter_ns() < due:
                pass
            sent[k] = time.perf_counter_ns()
            pub.send(msgs[k])
        achieved = n / ((time.perf_counter_ns() - t0) / NS)
        time.sleep(1.0)
        here.send("stop")
        got = here.recv()
        rx.join()
        lat = []
        for g, recv_ns in got:
            k = int(np.searchsorted(t, g, side="right"))  # the first trade stamped after the print
            if k < n:
                lat.append((recv_ns - sent[k]) / 1e6)
        lat_a = np.array(lat)
        pub.close(linger=0)
        return {"rate_target": rate, "rate_sent": achieved, "trades": n, "prints": len(lat),
                "p50_ms": float(np.percentile(lat_a, 50)), "p90_ms": float(np.percentile(lat_a, 90)),
                "p99_ms": float(np.percentile(lat_a, 99)), "max_ms": float(lat_a.max())}
    finally:
        srv.stop()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trades", type=int, default=300_000, help="trades for the input-rate runs")
    ap.add_argument("--batch", type=int, default=1000, help="trades per batched message")
    ap.add_argument("--rate", default="50000", help="paced trades/s for the latency run (comma-separated: several runs)")
    ap.add_argument("--seconds", type=float, default=10.0, help="length of the latency run")
    ap.add_argument("--step-ms", type=float, default=10.0, help="trade-time step between trades (ms)")
    args = ap.parse_args(argv)
    step = int(args.step_ms * 1e6)
    for b in (1, args.batch):
        r = input_rate(args.trades if b > 1 else min(args.trades, 200_000), b, step)
        print(f"input rate, {b:>5} trade(s)/message: {r['trades_per_s']:>12,.0f} trades/s "
              f"({r['messages_per_s']:,.0f} messages/s; {r['trades']:,} trades in {r['total_s']:.2f} s, "
              f"sent in {r['send_s']:.2f} s)", flush=True)
    for rate in (float(x) for x in str(args.rate).split(",")):
        r = latency(rate, args.seconds, step)
        print(f"tick-to-print latency at {r['rate_sent']:,.0f} trades/s sent (target {r['rate_target']:,.0f}), "
              f"one trade/message, {r['prints']} prints: p50 {r['p50_ms']:.3f} ms, p90 {r['p90_ms']:.3f} ms, "
              f"p99 {r['p99_ms']:.3f} ms, max {r['max_ms']:.3f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
