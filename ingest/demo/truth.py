"""Ground truth for one chunk (persons, orders, identities) and the counts behind truth.json."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.demo import reference as ref
from ingest.demo.chunk import Chunk
from ingest.demo.simulate import DRIVER_NAME, DRIVER_ORDER, SEGMENTS, Audience, Persons
from ingest.demo.world import CAMPAIGN_WINDOW_DAYS, World

CHURN_INACTIVE_DAYS = 180


def person_summary(w: World, p: Persons, o: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    live = ~o["cancelled"]
    person = o["person"]
    n_orders = np.bincount(person[live], minlength=p.n)
    first_t = np.full(p.n, np.inf)
    np.minimum.at(first_t, person[live], o["t"][live])
    last_t = np.full(p.n, -np.inf)
    np.maximum.at(last_t, person[live], o["t"][live])
    died = np.zeros(p.n, dtype=bool)
    died[person[o["died"]]] = True
    cause = np.full(p.n, -1, dtype=np.int64)
    dmask = o["died"]
    cause[person[dmask]] = o["cause"][dmask]
    churned = died | (last_t < w.horizon - CHURN_INACTIVE_DAYS)
    hit_any = np.zeros((p.n, len(DRIVER_ORDER)), dtype=bool)
    for i in range(len(DRIVER_ORDER)):
        h = live & (((o["hit_mask"] >> i) & 1) == 1)
        hit_any[person[h], i] = True
    return dict(n_orders=n_orders, first_t=first_t, last_t=last_t, died=died, cause=cause, churned=churned, hit_any=hit_any)


def _lists(matrix: np.ndarray, names: np.ndarray) -> pa.Array:
    """list<string> per row from a (rows x k) boolean matrix selecting among `names` (k), in column order."""
    offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
    values = np.broadcast_to(names, matrix.shape)[matrix]
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values.tolist(), pa.string()))


def _labels(codes: np.ndarray, names: list[str]) -> pa.Array:
    """Strings for non-negative codes, null for -1."""
    arr = pa.array(np.maximum(codes, 0).astype(np.int32))
    out = pc.take(pa.array(names, pa.string()), arr)
    return pc.if_else(pa.array(codes >= 0), out, pa.scalar(None, pa.string()))


def truth_tables(c: Chunk, s: dict[str, np.ndarray], used: np.ndarray) -> tuple[pa.Table, pa.Table, pa.Table]:
    w, o, p, ids = c.w, c.o, c.p, c.ids
    ts = pa.timestamp("s", tz="UTC")
    platform_sets = [",".join(ref.PLATFORMS[k] for k in range(4) if (m >> k) & 1) for m in range(16)]
    used_code = (used * (1 << np.arange(4))).sum(axis=1)
    epoch_day = w.start_epoch_day + np.floor(np.where(s["churned"], s["last_t"], 0.0)).astype(np.int64)
    driver_names = [DRIVER_NAME[k] for k in DRIVER_ORDER]
    persons = pa.table({
        "person_id": pa.array(c.person_id, pa.string()),
        "country": _labels(p.country, list(w.country_codes)),
        "region": _labels(p.country, [ref.COUNTRIES[x]["region"] for x in w.country_codes]),
        "is_multi_platform": pa.array(used.sum(axis=1) >= 2),
        "is_price_sensitive": pa.array(p.price_sensitive),
        "churned": pa.array(s["churned"]),
        "churn_at_date": pa.array(epoch_day.astype(np.int32), pa.date32(), mask=~s["churned"]),
        "churn_driver": _labels(s["cause"], driver_names),
        "churn_cause": _labels(s["cause"], list(DRIVER_ORDER)),
        "died": pa.array(s["died"]),
        "segment": _labels(p.segment, list(SEGMENTS)),
        "primary_platform": _labels(p.primary, list(ref.PLATFORMS)),
        "platforms": _labels(used_code, platform_sets),
        "main_email": pa.array(ids.main_email, pa.string()),
        "has_real_email": pa.array(ids.has_real_email),
        "email_subscribed": pa.array(p.email_list),
        "is_replenisher": pa.array(p.replenisher),
        "is_disengaging": pa.array(p.disengaging),
        "disengage_started_at": pa.array(w.to_unix(np.where(p.disengaging, p.disengage_t, 0)), ts, mask=~p.disengaging),
        "unsubscribed_at": pa.array(np.maximum(c.unsub_unix, 0), ts, mask=c.unsub_unix < 0),
        "first_order_at": pa.array(w.to_unix(s["first_t"]), ts),
        "last_order_at": pa.array(w.to_unix(s["last_t"]), ts),
        "orders": pa.array(s["n_orders"].astype(np.int32)),
    })
    # orders
    day = np.floor(o["t"]).astype(np.int64)
    fx = w.fx_rate(day, o["currency"])
    dec = w.cur_decimals[o["currency"]]
    total_major = o["total"] / np.where(dec == 2, 100.0, 1.0)
    bits = ((o["hit_mask"][:, None] >> np.arange(len(DRIVER_ORDER))[None, :]) & 1) == 1
    lines = np.stack([o["sku1"], o["sku2"], o["sku3"]], axis=1)
    line_names = np.array(w.skus, dtype=object)[np.maximum(lines, 0)]
    offsets = np.concatenate([[0], np.cumsum((lines >= 0).sum(axis=1))]).astype(np.int32)
    sku_lists = pa.ListArray.from_arrays(pa.array(offsets), pa.array(line_names[lines >= 0].tolist(), pa.string()))
    death = np.where(o["cause"] >= 0, o["cause"], np.where(o["died"], len(DRIVER_ORDER), -1))
    orders = pa.table({
        "platform": _labels(o["platform"], list(ref.PLATFORMS)),
        "order_id": pa.array(c.order_id.tolist(), pa.string()),
        "person_id": pc.take(pa.array(c.person_id, pa.string()), pa.array(o["person"])),
        "ordered_at": pa.array(c.unix, ts),
        "amount_usd": pa.array(np.round(total_major * fx, 2)),
        "currency": _labels(o["currency"], list(ref.CURRENCIES)),
        "amount_local": pa.array(np.round(total_major, 2)),
        "country": _labels(o["country"], list(w.country_codes)),
        "had_discount": pa.array(o["discount"] > 0),
        "delivery_days": pa.array(o["delivery_days"].astype(np.int32), mask=~c.delivered),
        "long_delivery": pa.array(~o["cancelled"] & (o["delivery_days"] > 20)),
        "returned": pa.array(c.return_visible),
        "returned_sku": _labels(np.where(c.return_visible, o["ret_sku"], -1), list(w.skus)),
        "unresolved_complaint": pa.array(o["unresolved"]),
        "cancelled": pa.array(o["cancelled"]),
        "skus": sku_lists,
        "order_seq": pa.array(o["k"].astype(np.int32)),
        "campaign_exposed": pa.array(o["exposed"]),
        "drivers_hit": _lists(bits, np.array(driver_names, dtype=object)),
        "died_after": pa.array(o["died"]),
        "death_cause": _labels(death, [*driver_names, "natural"]),
    })
    # identities: one row per (person, platform used)
    rows_p, rows_k, rows_id = [], [], []
    keys = {
        ref.SHOPIFY: [str(x) for x in ids.shopify_customer_id.tolist()],
        ref.AMAZON: ids.amazon_relay,
        ref.EBAY: ids.ebay_username,
        ref.WALMART: ids.walmart_relay,
    }
    for k in range(4):
        who = np.flatnonzero(used[:, k]).tolist()
        rows_p += [ref.PLATFORMS[k]] * len(who)
        rows_k += [keys[k][i] for i in who]
        rows_id += [c.person_id[i] for i in who]
    identities = pa.table({"platform": pa.array(rows_p, pa.string()), "platform_customer_key": pa.array(rows_k, pa.string()),
                           "person_id": pa.array(rows_id, pa.string())})
    return persons, orders, identities


def chunk_stats(c: Chunk, s: dict[str, np.ndarray], aud: Audience, used: np.ndarray) -> dict:
    """Additive counts; the generator sums them over chunks into truth.json."""
    o, p, w = c.o, c.p, c.w
    live = ~o["cancelled"]
    stats: dict = {"persons": int(p.n), "orders": int(live.sum()), "cancelled_orders": int(o["cancelled"].sum())}
    none = live & (o["hit_mask"] == 0)
    stats["orders_no_driver"] = int(none.sum())
    stats["orders_no_driver_died"] = int((none & o["died"]).sum())
    never = ~s["hit_any"].any(axis=1)
    stats["persons_never_hit"] = int(never.sum())
    stats["persons_never_hit_churned"] = int((never & s["churned"]).sum())
    for seg in range(len(SEGMENTS)):
        m = none & (p.segment[o["person"]] == seg)
        stats[f"orders_no_driver_{SEGMENTS[seg]}"] = int(m.sum())
        stats[f"orders_no_driver_died_{SEGMENTS[seg]}"] = int((m & o["died"]).sum())
    # "did the customer buy again?" - observable in the data; orders from the last 180 days are left out
    # because their follow-up is truncated by as_of
    has_next = np.zeros(len(o["t"]), dtype=bool)
    live_idx = np.flatnonzero(live)
    by_person = live_idx[np.lexsort((o["t"][live_idx], o["person"][live_idx]))]
    same = o["person"][by_person[1:]] == o["person"][by_person[:-1]]
    has_next[by_person[:-1][same]] = True
    old = live & (o["t"] < w.horizon - CHURN_INACTIVE_DAYS)
    stats["old_orders_no_driver"] = int((old & (o["hit_mask"] == 0)).sum())
    stats["old_orders_no_driver_with_next"] = int((old & (o["hit_mask"] == 0) & has_next).sum())
    for i, name in enumerate(DRIVER_ORDER):
        h = live & (((o["hit_mask"] >> i) & 1) == 1)
        stats[f"{name}.old_orders_hit"] = int((h & old).sum())
        stats[f"{name}.old_orders_hit_with_next"] = int((h & old & has_next).sum())
        only = live & (o["hit_mask"] == (1 << i))
        stats[f"{name}.orders_hit"] = int(h.sum())
        stats[f"{name}.orders_hit_died"] = int((h & o["died"]).sum())
        stats[f"{name}.orders_only_this_driver"] = int(only.sum())
        stats[f"{name}.orders_only_this_driver_died"] = int((only & o["died"]).sum())
        ph = s["hit_any"][:, i]
        stats[f"{name}.persons_hit"] = int(ph.sum())
        stats[f"{name}.persons_hit_churned"] = int((ph & s["churned"]).sum())
        stats[f"{name}.deaths_attributed"] = int((s["cause"] == i).sum())
    stats["one_time_buyers"] = int((s["n_orders"] == 1).sum())
    stats["multi_platform_persons"] = int((used.sum(axis=1) >= 2).sum())
    stats["price_sensitive_persons"] = int(p.price_sensitive.sum())
    stats["churned_persons"] = int(s["churned"].sum())
    stats["died_persons"] = int(s["died"].sum())
    for k in range(4):
        stats[f"platform_orders.{ref.PLATFORMS[k]}"] = int((live & (o["platform"] == k)).sum())
    # bad SKU return rate and long EU deliveries
    bad = w.bad_sku
    lines = np.stack([o["sku1"], o["sku2"], o["sku3"]], axis=1)
    has_bad = live & (lines == bad).any(axis=1)
    stats["bad_sku_orders"] = int(has_bad.sum())
    stats["bad_sku_orders_returned"] = int((has_bad & o["returned"] & (o["ret_sku"] == bad)).sum())
    other = live & ~(lines == bad).any(axis=1)
    stats["other_orders"] = int(other.sum())
    stats["other_orders_returned"] = int((other & o["returned"]).sum())
    eu = live & w.is_europe[o["country"]]
    stats["eu_orders"] = int(eu.sum())
    stats["eu_orders_over_20_days"] = int((eu & (o["delivery_days"] > 20)).sum())
    # campaign lift: orders within the window after a send, exposed vs drawn-out (control) pairs
    if len(w.campaigns):
        send = w.campaign_send
        alive_at = ~(s["died"][:, None] & (s["last_t"][:, None] < send[None, :]))
        stats["campaign.exposed_pairs"] = int((aud.exposed & alive_at).sum())
        stats["campaign.control_pairs"] = int((aud.control & alive_at).sum())
        t = o["t"][live]
        per = o["person"][live]
        cidx = np.searchsorted(send, t, side="right") - 1
        ok = (cidx >= 0) & (t - send[np.maximum(cidx, 0)] < CAMPAIGN_WINDOW_DAYS)
        cc = np.maximum(cidx, 0)
        stats["campaign.exposed_orders"] = int((ok & aud.exposed[per, cc]).sum())
        stats["campaign.control_orders"] = int((ok & aud.control[per, cc]).sum())
    else:
        for key in ("exposed_pairs", "control_pairs", "exposed_orders", "control_orders"):
            stats[f"campaign.{key}"] = 0
    stats["replenishers"] = int(p.replenisher.sum())
    rep_orders = live & p.replenisher[o["person"]]
    gaps = []
    if rep_orders.any():
        per = o["person"][rep_orders]
        t = o["t"][rep_orders]
        order = np.lexsort((t, per))
        per, t = per[order], t[order]
        same = per[1:] == per[:-1]
        gaps = np.diff(t)[same]
    stats["replenisher_gap_sum"] = float(np.sum(gaps)) if len(gaps) else 0.0
    stats["replenisher_gap_count"] = int(len(gaps))
    return stats
