"""Persons and their purchase process, one chunk of customers at a time (vectorised).

Each person has a purchase rate (with seasonality and email-campaign lift, by thinning a
Poisson process) or, for replenishers of consumables, a ~4-week gamma cycle. After every
order the person may "die" (churn for good). Death has a natural part that depends on the
person's segment and five planted drivers, each an independent competing risk that only
applies when the order was hit by it:

  logistics        delivery > 20 days to a European destination
  product_quality  bought the defective SKU and returned it
  service          a complaint ticket about the order that is never solved
  price            a price-sensitive person ordered without a discount
  engagement       the person's email engagement has been fading for 60+ days

The first driver (in DRIVER_ORDER) that fires is recorded as the cause of death.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.demo import reference as ref
from ingest.demo.fmt import mix64
from ingest.demo.world import CAMPAIGN_BOOST, CAMPAIGN_WINDOW_DAYS, World

SEGMENTS = ("casual", "regular", "loyal")
SEGMENT_SHARE = np.array([0.72, 0.20, 0.08])
SEGMENT_INTERVAL_DAYS = np.array([180.0, 60.0, 30.0])
BASE_DEATH = np.array([0.65, 0.20, 0.06])  # natural churn probability after each order

DRIVER_ORDER = ("service", "product_quality", "logistics", "engagement", "price")
# public driver names (truth files) for the internal keys, which double as cause categories
DRIVER_NAME = {
    "logistics": "long_eu_delivery", "product_quality": "defective_product_returned", "service": "unresolved_complaint",
    "price": "price_sensitive_no_discount", "engagement": "fading_email_engagement",
}
DRIVER_DEATH_P = {"service": 0.55, "product_quality": 0.50, "logistics": 0.45, "engagement": 0.45, "price": 0.40}
LONG_DELIVERY_DAYS = 20
ENGAGEMENT_LAG_DAYS = 60.0
ENGAGEMENT_DECAY_DAYS = 25.0  # open propensity x exp(-days since disengagement start / this)
PRICE_SENSITIVE_SHARE = 0.20
DISENGAGING_SHARE = 0.50
BAD_SKU_RETURN_RATE = 0.35

RETURN_REASONS = ("damaged", "not_as_described", "quality", "wrong_size", "late_delivery", "changed_mind")
TOPICS = ("delivery", "product_quality", "return_refund", "billing", "other")
TICKET_STATUS = ("open", "pending", "solved", "closed")
CODES = ref.EVERGREEN_CODES + tuple(sorted(set(ref.SALE_CODES.values())))
CODE_PCT = np.array([int("".join(ch for ch in c if ch.isdigit())) for c in CODES])
CARRIER_NAMES = tuple(ref.CARRIERS)
_CARRIER = {name: i for i, name in enumerate(CARRIER_NAMES)}
# local hour-of-day distribution of orders
DIURNAL = np.array([1.2, 0.7, 0.4, 0.3, 0.3, 0.5, 1.0, 2.0, 3.0, 3.6, 4.0, 4.4, 5.0, 4.9, 4.6, 4.5, 4.6, 5.0,
                    5.6, 6.4, 7.0, 6.8, 5.2, 2.8])
DIURNAL_CDF = np.cumsum(DIURNAL) / DIURNAL.sum()


@dataclass
class Persons:
    n: int
    gidx: np.ndarray
    country: np.ndarray
    city: np.ndarray
    zone: np.ndarray
    primary: np.ndarray
    secondary: np.ndarray  # -1: single-platform trait
    segment: np.ndarray
    interval: np.ndarray
    fav_cat: np.ndarray
    fav_sku: np.ndarray
    replenisher: np.ndarray
    cycle: np.ndarray
    price_sensitive: np.ndarray
    email_list: np.ndarray
    shopify_consent: np.ndarray  # 1 subscribed, 2 not_subscribed (for persons with a Shopify account)
    open_base: np.ndarray
    disengaging: np.ndarray
    disengage_t: np.ndarray
    unsub_t: np.ndarray
    t0: np.ndarray


def _pick(rng: np.random.Generator, cdf: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)


def _pick_rows(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One categorical draw per row of `probs` (n x k) using the uniforms `u`."""
    cdf = np.cumsum(probs, axis=1)
    return np.minimum((u[:, None] > cdf).sum(axis=1), probs.shape[1] - 1)


def make_persons(w: World, chunk: int, first: int, n: int, rng: np.random.Generator) -> Persons:
    gidx = np.arange(first, first + n, dtype=np.int64)
    country = _pick(rng, np.cumsum(w.country_weights), n)
    city = np.empty(n, dtype=np.int64)
    u = rng.random(n)
    for j in range(len(w.country_codes)):
        m = country == j
        city[m] = w.city_offset[j] + np.minimum(np.searchsorted(np.cumsum(w.city_weights[j]), u[m], side="right"),
                                                len(w.city_weights[j]) - 1)
    zone = w.city_zone[city]
    primary = _pick_rows(rng.random(n), w.platform_weights[country])
    segment = _pick(rng, np.cumsum(SEGMENT_SHARE), n)
    interval = SEGMENT_INTERVAL_DAYS[segment] * rng.lognormal(0.0, 0.35, n)
    # Multi-platform trait: mostly repeat-prone persons; they use a second platform for later orders.
    multi_p = np.array([0.15, 0.55, 0.65])[segment]
    multi = rng.random(n) < multi_p
    sec_w = w.platform_weights[country].copy()
    sec_w[np.arange(n), primary] = 0.0
    sec_w /= sec_w.sum(axis=1, keepdims=True)
    secondary = np.where(multi, _pick_rows(rng.random(n), sec_w), -1)
    fav_cat = _pick(rng, np.cumsum(w.category_weights), n)
    fav_sku = w.cat_sku_matrix[fav_cat, _pick_rows(rng.random(n), w.cat_pop_matrix[fav_cat])]
    fav_sku = np.where(w.sku_launch_day[fav_sku] > 0, w.sku_fallback[fav_sku], fav_sku)
    replenisher = (segment > 0) & w.category_consumable[fav_cat] & (rng.random(n) < 0.65)
    cycle = 28.0 * rng.uniform(0.85, 1.2, n)
    price_sensitive = rng.random(n) < PRICE_SENSITIVE_SHARE
    # email list: persons whose first platform gives the seller a real address and who opted in
    shopify_consent = np.where(rng.random(n) < 0.72, 1, 2)
    ebay_listed = rng.random(n) < 0.50
    email_list = ((primary == ref.SHOPIFY) & (shopify_consent == 1)) | ((primary == ref.EBAY) & ebay_listed)
    open_base = rng.beta(3.0, 6.0, n)
    t0 = np.searchsorted(w.acquisition_cdf, rng.random(n), side="right") + rng.random(n)
    t0 = np.minimum(t0, w.horizon - 1e-3)
    # fading engagement is planted mostly on repeat-prone persons (one-time buyers rarely live long enough to show it)
    disengaging = email_list & (rng.random(n) < np.where(segment > 0, DISENGAGING_SHARE, DISENGAGING_SHARE / 4))
    disengage_t = np.where(disengaging, t0 + rng.uniform(20.0, 300.0, n), np.inf)
    unsub = email_list & (rng.random(n) < np.where(disengaging, 0.12, 0.045))
    unsub_t = np.where(unsub, np.where(disengaging, disengage_t + rng.uniform(20, 120, n), t0 + rng.uniform(14, 700, n)), np.inf)
    return Persons(n, gidx, country, city, zone, primary, secondary, segment, interval, fav_cat, fav_sku, replenisher, cycle,
                   price_sensitive, email_list, shopify_consent, open_base, disengaging, disengage_t, unsub_t, t0)


@dataclass
class Audience:
    """Email campaign audiences for one chunk (persons x campaigns)."""

    exposed: np.ndarray  # received the send
    control: np.ndarray  # on the list, eligible, not drawn for this send
    unsub_campaign: np.ndarray  # campaign index of the person's unsubscribe, -1 if none


def audience_draw(seed: int, gidx: np.ndarray, campaign: np.ndarray) -> np.ndarray:
    """The stateless uniform that decides whether a person is in a campaign's audience."""
    key = (np.asarray(gidx, dtype=np.uint64) << np.uint64(12)) | np.asarray(campaign, dtype=np.uint64)
    salt = mix64(np.uint64(seed) + np.uint64(0xA5A5))
    return (mix64(key ^ salt) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def campaign_audience(w: World, p: Persons) -> Audience:
    c = len(w.campaigns)
    if c == 0:
        empty = np.zeros((p.n, 0), dtype=bool)
        return Audience(empty, empty, np.full(p.n, -1))
    send = w.campaign_send[None, :]
    acquired = p.t0[:, None] < send
    drawn = audience_draw(w.seed, p.gidx[:, None], np.arange(c)[None, :]) < w.campaign_share[None, :]
    listed = p.email_list[:, None]
    cand = acquired & drawn & listed
    after = cand & (send >= p.unsub_t[:, None])
    has = after.any(axis=1)
    unsub_c = np.where(has, after.argmax(axis=1), -1)
    limit = np.where(has, unsub_c, c)
    within = np.arange(c)[None, :] <= limit[:, None]
    return Audience(cand & within, acquired & ~drawn & listed & within, unsub_c)


class _Buffer:
    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(v)

    def build(self) -> dict[str, np.ndarray]:
        return {k: np.concatenate(v) for k, v in self.parts.items()}


def _lanes(w: World, rng: np.random.Generator, plat: np.ndarray, country: np.ndarray, fba: np.ndarray):
    """Carrier, handling and transit days for each order."""
    m = len(plat)
    carrier = np.zeros(m, dtype=np.int64)
    transit = np.zeros(m)
    u = rng.random(m)
    u2 = rng.random(m)
    u3 = rng.random(m)
    code = np.array(w.country_codes)[country]
    europe = w.is_europe[country]

    def assign(mask, options):
        if not mask.any():
            return
        probs = np.array([o[1] for o in options])
        cdf = np.cumsum(probs) / probs.sum()
        pick = np.minimum(np.searchsorted(cdf, u[mask], side="right"), len(options) - 1)
        car = np.array([_CARRIER[o[0]] if o[0] != "post" else -1 for o in options])[pick]
        lo = np.array([o[2] for o in options])[pick]
        hi = np.array([o[3] for o in options])[pick]
        idx = np.flatnonzero(mask)
        post = car < 0
        car[post] = [_CARRIER[ref.NATIONAL_POST[c]] for c in code[idx[post]]]
        carrier[idx] = car
        transit[idx] = lo + (hi - lo) * u2[mask]

    merchant = ~fba & (plat != ref.WALMART)
    assign(plat == ref.WALMART, [("FedEx", 35, 2, 6), ("UPS", 30, 2, 6), ("USPS", 35, 2, 7)])
    assign(fba, [("Amazon Logistics", 1, 1, 4)])
    us = merchant & (code == "US")
    assign(us, [("USPS", 50, 3, 8), ("UPS", 30, 2, 6), ("FedEx", 20, 2, 5)])
    assign(merchant & (code == "CA"), [("post", 60, 4, 11), ("UPS", 40, 3, 7)])
    # Europe: the economy lane from the seller's Asian warehouse is the slow one (21-36 days);
    # eBay listings use it most.
    slow_share = np.where(plat == ref.EBAY, 0.34, np.where(plat == ref.AMAZON, 0.16, 0.22))
    eu = merchant & europe
    eu_slow = eu & (u3 < slow_share)
    assign(eu_slow, [("Yanwen Economy", 1, 21, 36)])
    assign(eu & ~eu_slow, [("DHL Express", 22, 2, 5), ("post", 78, 4, 11)])
    for c, post_days in (("AU", (5, 13)), ("JP", (3, 8)), ("MX", (5, 12))):
        mask = merchant & (code == c)
        assign(mask, [("post", 65, *post_days), ("DHL Express", 15, 2, 6), ("Yanwen Economy", 20, 21, 34)])
    # a few national-post parcels get stuck in customs (also > 20 days)
    stuck = merchant & europe & (carrier != _CARRIER[ref.SLOW_CARRIER]) & (carrier != _CARRIER["DHL Express"]) & (rng.random(m) < 0.03)
    transit = np.where(stuck, 21 + 6 * rng.random(m), transit)
    handling = np.where(fba, rng.uniform(0.05, 0.8, m), np.where(plat == ref.WALMART, rng.uniform(0.2, 1.5, m), rng.uniform(0.3, 2.5, m)))
    return carrier, handling, transit


def simulate(w: World, p: Persons, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], Audience]:
    """Run every person's purchase process; returns order columns (sorted by time) and audiences."""
    aud: Audience | None = None
    buf = _Buffer()
    horizon = float(w.horizon)
    m_max = w.season_max * CAMPAIGN_BOOST
    last_t = np.full(p.n, -np.inf)
    cur_t = p.t0.copy()
    k = np.zeros(p.n, dtype=np.int64)
    alive = np.ones(p.n, dtype=bool)
    n_camp = len(w.campaigns)

    def exposure(pidx, t):
        if n_camp == 0 or aud is None:  # nobody is on the list before their first order
            return np.zeros(len(pidx), dtype=bool), np.zeros(len(pidx), dtype=np.int64)
        c = np.searchsorted(w.campaign_send, t, side="right") - 1
        cc = np.maximum(c, 0)
        hit = (c >= 0) & (t - w.campaign_send[cc] < CAMPAIGN_WINDOW_DAYS) & aud.exposed[pidx, cc] & (aud.unsub_campaign[pidx] != cc)
        return hit, cc

    def place(pidx, t):
        died = _place_orders(w, p, rng, buf, pidx, t, k[pidx], last_t, exposure)
        last_t[pidx] = buf.parts["t"][-1]
        cur_t[pidx] = buf.parts["t"][-1]
        k[pidx] += 1
        alive[pidx[died]] = False

    place(np.arange(p.n), p.t0.copy())
    p.t0 = last_t.copy()  # the first order's time after the hour-of-day draw
    aud = campaign_audience(w, p)
    while True:
        act = np.flatnonzero(alive & (cur_t < horizon))
        if act.size == 0:
            break
        rep = p.replenisher[act]
        gap = np.empty(act.size)
        gap[rep] = rng.gamma(12.0, p.cycle[act[rep]] / 12.0)
        gap[~rep] = rng.exponential(p.interval[act[~rep]] / m_max)
        tn = cur_t[act] + gap
        cur_t[act] = tn
        day = np.minimum(tn.astype(np.int64), len(w.season) - 1)
        boost = np.where(exposure(act, tn)[0], CAMPAIGN_BOOST, 1.0)
        accept = rep | (rng.random(act.size) * m_max < w.season[day] * boost)
        sel = accept & (tn < horizon)
        if sel.any():
            place(act[sel], tn[sel])
    orders = buf.build()
    order = np.lexsort((orders["person"], orders["t"]))
    return {key: v[order] for key, v in orders.items()}, aud


def _place_orders(w: World, p: Persons, rng, buf: _Buffer, pidx, t, k, last_t, exposure) -> np.ndarray:
    """Sample everything about a batch of orders (one per person in pidx) and their deaths."""
    m = len(pidx)
    horizon = float(w.horizon)
    country = p.country[pidx]
    # local time of day: keep the day, redraw the hour from the diurnal curve
    unix = w.to_unix(t)
    off = w.utc_offset_min(p.zone[pidx], unix) / 1440.0
    hour = np.searchsorted(DIURNAL_CDF, rng.random(m), side="right") + rng.random(m)
    snapped = np.floor(t + off) + hour / 24.0 - off
    ok = (snapped > last_t[pidx] + 0.01) & (snapped < horizon) & (snapped >= 0)
    t = np.where(ok, snapped, t)
    day = t.astype(np.int64)

    plat = p.primary[pidx].copy()
    sec = p.secondary[pidx]
    use2 = (k > 0) & (sec >= 0) & (rng.random(m) < 0.5)
    plat[use2] = sec[use2]
    exposed, camp = exposure(pidx, t)
    cur = w.platform_currency[plat, country]

    # ---- line items (up to 3 distinct SKUs)
    u = rng.random(m)
    n_lines = 1 + (u > 0.72) + (u > 0.94)
    in_fav = w.cat_sku_matrix[p.fav_cat[pidx], _pick_rows(rng.random(m), w.cat_pop_matrix[p.fav_cat[pidx]])]
    popular = _pick(rng, np.cumsum(w.sku_popularity), m)
    s1 = np.where(p.replenisher[pidx], p.fav_sku[pidx], np.where(rng.random(m) < 0.55, in_fav, popular))
    o1 = rng.integers(1, w.n_sku, m)
    o2 = rng.integers(1, w.n_sku - 1, m)
    o2 = np.where(o2 >= o1, o2 + 1, o2)
    lines = np.stack([s1, (s1 + o1) % w.n_sku, (s1 + o2) % w.n_sku], axis=1)
    lines = np.where(w.sku_launch_day[lines] > t[:, None], w.sku_fallback[lines], lines)
    lines[:, 1] = np.where((n_lines >= 2) & (lines[:, 1] != lines[:, 0]), lines[:, 1], -1)
    lines[:, 2] = np.where((n_lines >= 3) & (lines[:, 2] != lines[:, 0]) & (lines[:, 2] != lines[:, 1]), lines[:, 2], -1)
    has = lines >= 0
    safe = np.where(has, lines, 0)
    uq = rng.random((m, 3))
    consumable = w.sku_consumable[safe]
    qty = np.where(consumable, 1 + (uq > 0.70) + (uq > 0.90), 1 + (uq > 0.95)) * has
    unit = w.price[safe, cur[:, None]] * has
    line_total = unit * qty
    subtotal = line_total.sum(axis=1)

    # ---- discounts (Walmart orders carry none in its API)
    code = np.full(m, -1, dtype=np.int64)
    sale = exposed & w.campaign_has_code[camp]
    bf = w.bfcm[day]
    ps = p.price_sensitive[pidx]
    p_disc = np.where(ps, 0.72, 0.09) + 0.22 * sale + 0.15 * bf + 0.10 * ((k == 0) & (plat == ref.SHOPIFY))
    p_disc = np.where(plat == ref.WALMART, 0.0, np.minimum(p_disc, 0.95))
    had_discount = rng.random(m) < p_disc
    camp_code = np.array([CODES.index(c.code) if c.code else -1 for c in w.campaigns] or [-1])[camp]
    evergreen = rng.integers(0, len(ref.EVERGREEN_CODES), m)
    code = np.where(sale & (camp_code >= 0), camp_code,
                    np.where(bf, CODES.index("BFCM25"), np.where(k == 0, CODES.index("WELCOME10"), evergreen)))
    code = np.where(had_discount, code, -1)
    discount = np.where(had_discount, np.round(subtotal * CODE_PCT[np.maximum(code, 0)] / 100.0), 0).astype(np.int64)
    net = subtotal - discount

    fba = (plat == ref.AMAZON) & (rng.random(m) < 0.70)
    free = net >= w.free_shipping_over[cur]
    shipping = np.where(fba | free, 0, w.ship_fee[cur])
    tax = np.where(plat == ref.EBAY, 0, np.round(net * w.tax_rate[country])).astype(np.int64)
    total = net + shipping + tax
    cancelled = (k > 0) & (rng.random(m) < 0.02)  # first orders always stand
    cancel_t = t + rng.uniform(0.01, 0.8, m)

    # ---- shipping
    carrier, handling, transit = _lanes(w, rng, plat, country, fba)
    shipped_t = t + handling
    delivered_t = shipped_t + transit
    delivery_days = np.floor(delivered_t - t).astype(np.int64)
    long_delivery = ~cancelled & (delivery_days > LONG_DELIVERY_DAYS)
    hit_logistics = long_delivery & w.is_europe[country]

    # ---- returns: at most one line per order
    is_bad = safe == w.bad_sku
    apparel = w.sku_category[safe] == w.apparel
    p_ret = np.where(is_bad, BAD_SKU_RETURN_RATE, np.where(apparel, 0.12, np.where(consumable, 0.015, 0.045)))
    p_ret = p_ret + np.where(is_bad, 0.0, 0.08 * long_delivery[:, None])
    ret_hit = has & (rng.random((m, 3)) < p_ret)
    returned = ~cancelled & ret_hit.any(axis=1)
    ret_col = ret_hit.argmax(axis=1)
    ret_sku = safe[np.arange(m), ret_col]
    ur = rng.random(m)
    reason = np.where(ur < 0.35, 0, np.where(ur < 0.70, 5, np.where(ur < 0.85, 1, 2)))  # generic mix
    reason = np.where(w.sku_category[ret_sku] == w.apparel, np.where(ur < 0.65, 3, 5), reason)
    reason = np.where(long_delivery & (rng.random(m) < 0.6), 4, reason)
    reason = np.where(ret_sku == w.bad_sku, np.where(ur < 0.6, 2, 1), reason)
    return_t = delivered_t + rng.uniform(1.0, 14.0, m)
    ret_line_total = line_total[np.arange(m), ret_col]
    refund = np.where(subtotal > 0, np.round(ret_line_total * net / np.maximum(subtotal, 1)), 0).astype(np.int64)
    hit_quality = returned & (ret_sku == w.bad_sku)

    # ---- support tickets
    bad_in = (is_bad & has).any(axis=1)
    p_ticket = 0.025 + 0.30 * long_delivery + 0.30 * returned + 0.03 * bad_in
    ticket = ~cancelled & (rng.random(m) < p_ticket)
    ut = rng.random(m)
    quality_reason = (reason == 1) | (reason == 2)
    generic_topic = np.searchsorted(np.array([0.25, 0.40, 0.40, 0.65, 1.0]), rng.random(m), side="right")
    generic_topic = np.minimum(generic_topic, 4)
    topic = np.where(long_delivery & (ut < 0.8), 0,
                     np.where(returned, np.where(quality_reason & (rng.random(m) < 0.55), 1, 2), generic_topic))
    complaint = rng.random(m) < np.array([0.75, 0.80, 0.50, 0.40, 0.15])[topic]
    unresolved = ticket & complaint & (rng.random(m) < 0.35)
    created_t = np.select(
        [topic == 0, (topic == 1) & returned, topic == 2, topic == 1],
        [np.where(long_delivery, t + rng.uniform(9, 19, m), shipped_t + rng.uniform(2, 8, m)),
         return_t + rng.uniform(0.2, 4, m), return_t + rng.uniform(0.2, 4, m), delivered_t + rng.uniform(1, 10, m)],
        default=t + rng.uniform(0.5, 20, m),
    )
    solved_t = np.where(unresolved, np.inf, created_t + rng.uniform(0.05, 6.0, m))
    touched_t = np.where(unresolved, created_t + rng.uniform(0.0, 6.0, m), solved_t)
    pending = rng.random(m) < 0.6
    hit_service = unresolved

    # ---- the other two drivers
    hit_price = ps & ~had_discount & (plat != ref.WALMART) & ~cancelled
    hit_engagement = p.disengaging[pidx] & (t >= p.disengage_t[pidx] + ENGAGEMENT_LAG_DAYS) & ~cancelled

    # ---- death after the order: natural risk, then each driver as a competing risk
    hits = {"service": hit_service, "product_quality": hit_quality, "logistics": hit_logistics,
            "engagement": hit_engagement, "price": hit_price}
    natural = rng.random(m) < BASE_DEATH[p.segment[pidx]]
    cause = np.full(m, -1, dtype=np.int64)
    fired_any = np.zeros(m, dtype=bool)
    hit_mask = np.zeros(m, dtype=np.int64)
    for i, name in enumerate(DRIVER_ORDER):
        fired = hits[name] & (rng.random(m) < DRIVER_DEATH_P[name])
        cause = np.where(fired & (cause < 0), i, cause)
        fired_any |= fired
        hit_mask |= hits[name].astype(np.int64) << i
    died = ~cancelled & (natural | fired_any)
    cause = np.where(died, cause, -1)

    buf.add(
        person=pidx, t=t, k=k, platform=plat, currency=cur, country=country, exposed=exposed, campaign=camp,
        sku1=lines[:, 0], sku2=lines[:, 1], sku3=lines[:, 2], qty1=qty[:, 0], qty2=qty[:, 1], qty3=qty[:, 2],
        unit1=unit[:, 0], unit2=unit[:, 1], unit3=unit[:, 2],
        subtotal=subtotal, discount=discount, code=code, shipping=shipping, tax=tax, total=total,
        cancelled=cancelled, cancel_t=cancel_t, fba=fba, carrier=carrier, shipped_t=shipped_t, delivered_t=delivered_t,
        delivery_days=delivery_days, returned=returned, ret_col=ret_col, ret_sku=ret_sku, ret_reason=reason,
        return_t=return_t, refund=refund, ticket=ticket, topic=topic, complaint=complaint, unresolved=unresolved,
        pending=pending, created_t=created_t, solved_t=solved_t, touched_t=touched_t, hit_mask=hit_mask, died=died,
        cause=cause, natural=natural & died,
    )
    return died
