"""An outside peer for ``python -m kospi_fast.bench``: a replay written without kospi_fast (as
a user of the harness would), used by tests/test_bench_harness.py."""

import numpy as np


def replay(shares, prices, divisor, ids, new_prices, rebalances=()):
    """Plain incremental replay with an exact Python-int cap; rebalances rebased exactly."""
    from fractions import Fraction

    sh = [int(x) for x in shares]
    px = [int(x) for x in prices]
    cap = sum(p * s for p, s in zip(px, sh))
    d = float(divisor)
    todo = sorted((int(at), list(i), list(s)) for at, i, s in rebalances)
    out = np.empty(len(new_prices))
    for k, (i, p) in enumerate(zip(np.asarray(ids).tolist(), np.asarray(new_prices).tolist())):
        while todo and todo[0][0] == k:
            _, r_ids, r_sh = todo.pop(0)
            before = cap
            for j, s in zip(r_ids, r_sh):
                cap += px[j] * (int(s) - sh[j])
                sh[j] = int(s)
            d = float(Fraction(d) * cap / before)
        cap += (p - px[i]) * sh[i]
        px[i] = p
        out[k] = cap / d
    return out


def wrong(shares, prices, divisor, ids, new_prices, rebalances=()):
    """A peer that is slightly off: the harness must flag it."""
    return replay(shares, prices, divisor, ids, new_prices, rebalances) * (1 + 1e-12)
