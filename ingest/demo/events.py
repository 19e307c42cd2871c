"""Email and web events for one chunk, as arrow columns ready for CSV.

Email: every send of a campaign to its audience, opens, clicks and unsubscribes. Open
propensity is a person trait; persons planted with fading engagement open less and less
after their disengagement start, persons who left for good mostly stop opening, active
ones keep opening. Web: a checkout session for every Shopify order, browsing sessions of
Shopify customers while they are alive (product views, some carts abandoned) and a few
in the weeks after they leave, and anonymous browsing.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.demo import reference as ref
from ingest.demo.fmt import buf_to_arrow, fixed_ids, ts_arrow
from ingest.demo.simulate import ENGAGEMENT_DECAY_DAYS, Audience, Persons
from ingest.demo.world import DAY, World

EMAIL_TYPES = ("send", "open", "click", "unsubscribe")
WEB_TYPES = ("session_start", "product_view", "add_to_cart", "checkout_start", "purchase")
# Signs of life. A person who left for good (and was not planted with fading engagement)
# opens emails at this share of their open rate from then on: they mostly ignore the brand.
GONE_OPEN_FACTOR = 0.15
# A living Shopify customer browses the store BROWSE_SESSIONS_PER_ORDER times per expected
# order: sessions per day = this / min(days between their orders, BROWSE_MAX_DAYS), x1.3
# when price-sensitive, thinned by the seasonal curve. The cap keeps occasional buyers
# coming back to look every couple of months while they are still customers.
BROWSE_SESSIONS_PER_ORDER = 0.8
BROWSE_MAX_DAYS = 60.0
# After death: Poisson(AFTER_DEATH_SESSIONS) sessions, exponentially spread (mean
# AFTER_DEATH_DAYS) after the last order (tracking the parcel, a last look), then nothing.
AFTER_DEATH_SESSIONS = 0.3
AFTER_DEATH_DAYS = 10.0
BROWSE_IDENTIFIED_SHARE = 0.8  # sessions logged in or recognised (cookie from an email click)


def email_events(w: World, chunk: int, p: Persons, aud: Audience, last_t: np.ndarray, died: np.ndarray,
                 emails: pa.Array, rng: np.random.Generator) -> tuple[pa.Table, np.ndarray]:
    """Returns the events table and, per person, the Unix time of the unsubscribe (-1: none)."""
    h_unix = w.end_unix
    pi, ci = np.nonzero(aud.exposed)
    send_day = w.campaign_send[ci]
    send_unix = w.start_unix + np.round(send_day * DAY).astype(np.int64) + rng.integers(0, 1800, len(pi))
    # open propensity at the time of the send
    factor = np.ones(len(pi))
    fading = p.disengaging[pi] & (send_day >= p.disengage_t[pi])
    factor = np.where(fading, np.maximum(0.04, np.exp(-(send_day - p.disengage_t[pi]) / ENGAGEMENT_DECAY_DAYS)), factor)
    gone = died[pi] & (send_day > last_t[pi]) & ~p.disengaging[pi]
    factor = np.where(gone, GONE_OPEN_FACTOR, factor)
    factor = factor * np.where(w.campaign_sale[ci], 1.15, 1.0)
    unsub = aud.unsub_campaign[pi] == ci
    opened = unsub | (rng.random(len(pi)) < np.minimum(p.open_base[pi] * factor, 0.95))
    open_unix = send_unix + np.minimum(np.exp(rng.normal(np.log(3 * 3600), 1.0, len(pi))), 6 * DAY).astype(np.int64) + 1
    clicked = opened & ~unsub & (rng.random(len(pi)) < np.where(w.campaign_sale[ci], 0.22, 0.16))
    click_unix = open_unix + rng.integers(10, 900, len(pi))
    unsub_unix_ev = open_unix + rng.integers(20, 600, len(pi))

    person = np.concatenate([pi, pi[opened], pi[clicked], pi[unsub]])
    camp = np.concatenate([ci, ci[opened], ci[clicked], ci[unsub]])
    kind = np.concatenate([np.zeros(len(pi), np.int8), np.full(opened.sum(), 1, np.int8), np.full(clicked.sum(), 2, np.int8),
                           np.full(unsub.sum(), 3, np.int8)])
    when = np.concatenate([send_unix, open_unix[opened], click_unix[clicked], unsub_unix_ev[unsub]])
    keep = when < h_unix
    person, camp, kind, when = person[keep], camp[keep], kind[keep], when[keep]
    order = np.lexsort((kind, person, when))
    person, camp, kind, when = person[order], camp[order], kind[order], when[order]

    unsub_at = np.full(p.n, -1, dtype=np.int64)
    u = kind == 3
    unsub_at[person[u]] = when[u]

    ids = buf_to_arrow(fixed_ids("em", chunk + 1, np.arange(1, len(person) + 1), 8))
    cid = pa.array([c.campaign_id for c in w.campaigns] or [""], pa.string())
    cname = pa.array([c.name for c in w.campaigns] or [""], pa.string())
    camp_idx = pa.array(camp.astype(np.int32))
    table = pa.table({
        "event_id": ids,
        "email": pc.take(emails, pa.array(person)),
        "event_type": pc.take(pa.array(EMAIL_TYPES), pa.array(kind.astype(np.int32))),
        "campaign_id": pc.take(cid, camp_idx),
        "campaign_name": pc.take(cname, camp_idx),
        "occurred_at": ts_arrow(when, style="Z"),
    })
    return table, unsub_at


def web_events(w: World, chunk: int, p: Persons, o: dict[str, np.ndarray], order_unix: np.ndarray, used_shopify: np.ndarray,
               last_t: np.ndarray, died: np.ndarray, emails: pa.Array, skus: pa.Array, rng: np.random.Generator) -> pa.Table:
    h_unix = w.end_unix
    parts_session, parts_person, parts_kind, parts_sku, parts_when, parts_known = [], [], [], [], [], []

    def add(session, person, kind, sku, when, known):
        parts_session.append(session)
        parts_person.append(person)
        parts_kind.append(np.full(len(session), kind, np.int8) if np.isscalar(kind) else kind)
        parts_sku.append(sku)
        parts_when.append(when)
        parts_known.append(known)

    # ---- checkout sessions: one per Shopify order
    shop = np.flatnonzero(o["platform"] == ref.SHOPIFY)
    ns = len(shop)
    sess = np.arange(ns)
    length = rng.uniform(6 * 60, 40 * 60, ns)
    t_end = order_unix[shop]
    start = t_end - length.astype(np.int64)
    person = o["person"][shop]
    sku1 = o["sku1"][shop]
    other = np.where(o["sku2"][shop] >= 0, o["sku2"][shop], rng.integers(0, w.n_sku, ns))
    known = np.ones(ns, dtype=bool)
    add(sess, person, 0, np.full(ns, -1), start, known)
    add(sess, person, 1, sku1, start + (0.10 * length).astype(np.int64), known)
    second = rng.random(ns) < 0.4
    add(sess[second], person[second], 1, other[second], start[second] + (0.30 * length[second]).astype(np.int64), known[second])
    add(sess, person, 2, sku1, start + (0.50 * length).astype(np.int64), known)
    add(sess, person, 3, sku1, start + (0.75 * length).astype(np.int64), known)
    add(sess, person, 4, sku1, t_end, known)
    n_sessions = ns

    # ---- browsing of Shopify customers: signs of life. While a customer is alive (from the
    # first Shopify order until death, or as_of) they come back to look at products at a rate
    # tied to their own purchase rate, with the seasonal curve; some sessions add to cart
    # without buying (price-sensitive shoppers more often). After death only a few sessions
    # in the next weeks (tracking the parcel, a last look), then nothing.
    shop_first = np.full(p.n, np.inf)
    np.minimum.at(shop_first, o["person"][shop], o["t"][shop])
    shoppers = np.flatnonzero(used_shopify & np.isfinite(shop_first))
    start_t = shop_first[shoppers]
    end_t = np.where(died[shoppers], last_t[shoppers], float(w.horizon))
    span = np.maximum(end_t - start_t, 0.0)
    days_per_order = np.where(p.replenisher[shoppers], p.cycle[shoppers], p.interval[shoppers])
    rate = BROWSE_SESSIONS_PER_ORDER / np.minimum(days_per_order, BROWSE_MAX_DAYS)
    rate = rate * np.where(p.price_sensitive[shoppers], 1.3, 1.0)
    count = rng.poisson(rate * span * w.season_max)
    who = np.repeat(shoppers, count)
    t_b = np.repeat(start_t, count) + np.repeat(span, count) * rng.random(len(who))
    day = np.minimum(t_b.astype(np.int64), len(w.season) - 1)
    keep_b = rng.random(len(who)) * w.season_max < w.season[day]  # thinning: browsing follows the seasons
    who, t_b = who[keep_b], t_b[keep_b]
    gone = shoppers[died[shoppers]]
    n_after = rng.poisson(AFTER_DEATH_SESSIONS, len(gone))
    who_a = np.repeat(gone, n_after)
    t_a = last_t[who_a] + rng.exponential(AFTER_DEATH_DAYS, len(who_a))
    who = np.concatenate([who, who_a])
    t_b = np.concatenate([t_b, t_a])
    na = len(who)
    start = w.start_unix + np.round(t_b * DAY).astype(np.int64)
    length = rng.uniform(2 * 60, 20 * 60, na)
    sku = np.where(rng.random(na) < 0.5, p.fav_sku[who], np.searchsorted(np.cumsum(w.sku_popularity), rng.random(na) * 0.999999))
    logged_in = rng.random(na) < BROWSE_IDENTIFIED_SHARE
    sess = n_sessions + np.arange(na)
    add(sess, who, 0, np.full(na, -1), start, logged_in)
    add(sess, who, 1, sku, start + (0.2 * length).astype(np.int64), logged_in)
    two = rng.random(na) < 0.30
    add(sess[two], who[two], 1, (sku[two] + 1 + rng.integers(0, w.n_sku - 1, two.sum())) % w.n_sku,
        start[two] + (0.4 * length[two]).astype(np.int64), logged_in[two])
    cart = rng.random(na) < np.where(p.price_sensitive[who], 0.35, 0.20)
    add(sess[cart], who[cart], 2, sku[cart], start[cart] + (0.6 * length[cart]).astype(np.int64), logged_in[cart])
    co = cart & (rng.random(na) < 0.25)
    add(sess[co], who[co], 3, sku[co], start[co] + (0.9 * length[co]).astype(np.int64), logged_in[co])
    n_sessions += na

    # ---- anonymous browsing
    nb = int(round(p.n * 0.5))
    day = np.searchsorted(w.acquisition_cdf, rng.random(nb), side="right") + rng.random(nb)
    start = w.start_unix + np.round(day * DAY).astype(np.int64)
    views = 1 + (rng.random(nb) > 0.45).astype(np.int64) + (rng.random(nb) > 0.8)
    sess = n_sessions + np.arange(nb)
    nobody = np.zeros(nb, dtype=np.int64)
    anon = np.zeros(nb, dtype=bool)
    add(sess, nobody, 0, np.full(nb, -1), start, anon)
    for v in range(3):
        m = views > v
        add(sess[m], nobody[m], 1, rng.integers(0, w.n_sku, m.sum()), start[m] + 40 + 70 * v + rng.integers(0, 60, m.sum()), anon[m])
    cart = rng.random(nb) < 0.12
    add(sess[cart], nobody[cart], 2, rng.integers(0, w.n_sku, cart.sum()), start[cart] + 300, anon[cart])
    n_sessions += nb

    session = np.concatenate(parts_session)
    person = np.concatenate(parts_person)
    kind = np.concatenate(parts_kind)
    sku = np.concatenate(parts_sku)
    when = np.concatenate(parts_when)
    known = np.concatenate(parts_known)
    keep = (when < h_unix) & (when >= w.start_unix)
    session, person, kind, sku, when, known = (a[keep] for a in (session, person, kind, sku, when, known))
    # session ids follow the session start order; events follow time
    first_seen = np.full(n_sessions, np.iinfo(np.int64).max)
    np.minimum.at(first_seen, session, when)
    rank = np.empty(n_sessions, dtype=np.int64)
    rank[np.lexsort((np.arange(n_sessions), first_seen))] = np.arange(n_sessions)
    order = np.lexsort((kind, rank[session], when))
    session, person, kind, sku, when, known = (a[order] for a in (session, person, kind, sku, when, known))

    email = pc.if_else(pa.array(known), pc.take(emails, pa.array(person)), pa.scalar("", pa.string()))
    sku_s = pc.if_else(pa.array(sku >= 0), pc.take(skus, pa.array(np.maximum(sku, 0))), pa.scalar("", pa.string()))
    return pa.table({
        "event_id": buf_to_arrow(fixed_ids("wb", chunk + 1, np.arange(1, len(when) + 1), 9)),
        "session_id": buf_to_arrow(fixed_ids("s", chunk + 1, rank[session] + 1, 8)),
        "email": email,
        "event_type": pc.take(pa.array(WEB_TYPES), pa.array(kind.astype(np.int32))),
        "sku": sku_s,
        "occurred_at": ts_arrow(when, style="Z"),
    })
