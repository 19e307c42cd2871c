"""Derived, platform-facing values for one chunk: ids, visibility at as_of, timestamps."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.demo import reference as ref
from ingest.demo.fmt import hash_u64, permute
from ingest.demo.identity import Identities
from ingest.demo.simulate import Persons
from ingest.demo.world import World

REFUND_LAG_DAYS = 2.0


@dataclass
class Chunk:
    w: World
    chunk: int
    p: Persons
    o: dict[str, np.ndarray]
    ids: Identities
    n_orders: int
    unix: np.ndarray  # order time, Unix seconds
    order_id: np.ndarray  # platform order id as it appears in the platform file (object array of str)
    platform_seq: np.ndarray  # rank of the order among the chunk's orders on its platform
    shipped: np.ndarray  # visible at as_of
    delivered: np.ndarray
    return_visible: np.ndarray
    refund_t: np.ndarray
    refund_visible: np.ndarray
    ticket_visible: np.ndarray
    unsub_unix: np.ndarray  # per person: unsubscribe event time (Unix s), -1 if none
    person_id: list[str]

    def order_id_array(self, idx: np.ndarray) -> np.ndarray:
        return self.order_id[idx]


def derive(w: World, chunk: int, p: Persons, o: dict[str, np.ndarray], ids: Identities, unsub_unix: np.ndarray) -> Chunk:
    n = len(o["t"])
    h = float(w.horizon)
    unix = w.to_unix(o["t"])
    plat = o["platform"]
    seq = np.zeros(n, dtype=np.int64)
    for k in range(4):
        m = plat == k
        seq[m] = np.arange(m.sum())
    base = chunk * 10_000_000 + seq
    order_id = np.empty(n, dtype=object)
    m = plat == ref.SHOPIFY
    order_id[m] = [str(x) for x in (5_100_000_000_000 + chunk * 10_000_000 + seq[m]).tolist()]
    m = plat == ref.AMAZON
    if m.any():
        digits = permute(base[m], 14, w.seed + 21)
        pre_key = hash_u64(w.seed, base[m], 22)
        tlds = np.array([ref.COUNTRIES[c]["amazon"][1] for c in w.country_codes])[o["country"][m]]
        out = []
        for d, tld, hk in zip(digits.tolist(), tlds, pre_key.tolist(), strict=True):
            prefixes = ref.AMAZON_PREFIX.get(tld, ref.AMAZON_PREFIX["_"])
            s = str(d).zfill(14)
            out.append(f"{prefixes[hk % len(prefixes)]}-{s[:7]}-{s[7:]}")
        order_id[m] = out
    m = plat == ref.EBAY
    if m.any():
        digits = permute(base[m], 12, w.seed + 23)
        order_id[m] = [f"{s[:2]}-{s[2:7]}-{s[7:]}" for s in (str(d).zfill(12) for d in digits.tolist())]
    m = plat == ref.WALMART
    if m.any():
        digits = permute(base[m], 12, w.seed + 24)
        order_id[m] = ["1" + str(d).zfill(12) for d in digits.tolist()]
    cancelled = o["cancelled"]
    shipped = ~cancelled & (o["shipped_t"] < h)
    delivered = ~cancelled & (o["delivered_t"] < h)
    return_visible = o["returned"] & (o["return_t"] < h)
    refund_t = np.where(cancelled, o["cancel_t"], o["return_t"] + REFUND_LAG_DAYS)
    refund_visible = (cancelled & (o["cancel_t"] < h)) | (return_visible & (refund_t < h))
    ticket_visible = o["ticket"] & (o["created_t"] < h)
    person_id = [f"P{g:08d}" for g in p.gidx.tolist()]
    return Chunk(w, chunk, p, o, ids, n, unix, order_id, seq, shipped, delivered, return_visible, refund_t,
                 refund_visible, ticket_visible, unsub_unix, person_id)

