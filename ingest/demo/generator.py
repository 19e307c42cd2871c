"""Deterministic demo data: every landing source in its platform's shape, plus the truth.

    python -m ingest.demo.generator --customers 100000 --seed 42 --as-of 2026-11-22 --out data/demo

Customers are simulated in fixed-size chunks; chunk k uses its own PCG64 stream seeded
with (seed, k, stream), so the output does not depend on the number of worker processes
and two runs with the same arguments write byte-identical files. Every chunk writes its
own file(s) per source; each file is one loader batch. What is planted, and how big the
effects are, is documented in ingest/demo/DRIVERS.md and written to truth/truth.json.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import gc
import hashlib
import math
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.demo import reference as ref
from ingest.demo.chunk import derive
from ingest.demo.events import email_events, web_events
from ingest.demo.fmt import buf_to_arrow, date_buf, hash_u64
from ingest.demo.identity import build_identities
from ingest.demo.render import Renderer, write_csv, write_json
from ingest.demo.simulate import (
    BAD_SKU_RETURN_RATE,
    BASE_DEATH,
    DRIVER_DEATH_P,
    DRIVER_NAME,
    DRIVER_ORDER,
    ENGAGEMENT_DECAY_DAYS,
    ENGAGEMENT_LAG_DAYS,
    LONG_DELIVERY_DAYS,
    PRICE_SENSITIVE_SHARE,
    SEGMENT_INTERVAL_DAYS,
    SEGMENT_SHARE,
    SEGMENTS,
    make_persons,
    simulate,
)
from ingest.demo.truth import CHURN_INACTIVE_DAYS, chunk_stats, person_summary, truth_tables
from ingest.demo.world import CAMPAIGN_BOOST, CAMPAIGN_WINDOW_DAYS, World

SOURCES = ("shopify", "amazon", "ebay", "walmart", "meta_ads", "google_ads", "email", "web", "support", "shipments",
           "returns", "catalog", "fx")
CHUNK_SIZE = 50_000
# file names this generator writes, per source
_OWN_FILES = {
    "shopify": ("orders_[0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9].json",),
    "ebay": ("orders_[0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9].json",),
    "walmart": ("orders_[0-9][0-9][0-9][0-9][0-9]_[0-9][0-9][0-9].json",),
    "amazon": ("all_orders_[0-9][0-9][0-9][0-9][0-9].tsv",),
    "meta_ads": ("insights_[0-9][0-9][0-9][0-9].json",),
    "google_ads": ("campaign_performance_[0-9][0-9][0-9][0-9].csv",),
    "email": ("events_[0-9][0-9][0-9][0-9][0-9].csv",),
    "web": ("events_[0-9][0-9][0-9][0-9][0-9].csv",),
    "support": ("tickets_[0-9][0-9][0-9][0-9][0-9].csv",),
    "shipments": ("shipments_[0-9][0-9][0-9][0-9][0-9].csv",),
    "returns": ("returns_[0-9][0-9][0-9][0-9][0-9].csv",),
    "catalog": ("products.csv",),
    "fx": ("fx_rates.csv",),
}
DEFAULT_AS_OF = dt.date(2026, 11, 22)
Progress = Callable[[str, float], None]
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass
class GenerationSummary:
    out_dir: Path
    customers: int
    seed: int
    as_of: dt.date
    years: int
    chunks: int
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    bytes_written: int = 0
    truth: dict = field(default_factory=dict)


@dataclass(frozen=True)
class _ChunkSpec:
    out_dir: str
    seed: int
    as_of: dt.date
    years: int
    customers: int
    chunk: int
    chunk_size: int


@dataclass
class _ChunkResult:
    rows: dict[str, int]
    files: dict[str, int]
    bytes_written: int
    stats: dict
    persons: pa.Table
    orders: pa.Table
    identities: pa.Table


@lru_cache(maxsize=2)
def _world(seed: int, as_of: dt.date, years: int, customers: int) -> World:
    return World(seed, as_of, years, customers)


def _rng(seed: int, chunk: int, stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, chunk, stream])))


def _run_chunk(spec: _ChunkSpec) -> _ChunkResult:
    # Building millions of small dicts/strings triggers the cyclic GC over and over; nothing
    # here creates reference cycles, so pausing it halves the rendering time.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _chunk(spec)
    finally:
        if enabled:
            gc.enable()


def _chunk(spec: _ChunkSpec) -> _ChunkResult:
    w = _world(spec.seed, spec.as_of, spec.years, spec.customers)
    k = spec.chunk
    first = k * spec.chunk_size
    n = min(spec.chunk_size, spec.customers - first)
    landing = Path(spec.out_dir) / "landing"
    sim_rng = _rng(spec.seed, k, 0)
    p = make_persons(w, k, first, n, sim_rng)
    o, aud = simulate(w, p, sim_rng)
    used = np.zeros((n, 4), dtype=bool)
    used[o["person"], o["platform"]] = True
    ids = build_identities(w, p, used, _rng(spec.seed, k, 1))
    s = person_summary(w, p, o)
    canonical = pa.array(ids.canonical_email, pa.string())
    email_table, unsub_unix = email_events(w, k, p, aud, s["last_t"], s["died"], canonical, _rng(spec.seed, k, 2))
    c = derive(w, k, p, o, ids, unsub_unix)
    r = Renderer(c)
    rows: dict[str, int] = {}
    files: dict[str, list[Path]] = {}
    for source, fn in (("shopify", r.shopify), ("amazon", r.amazon), ("ebay", r.ebay), ("walmart", r.walmart),
                       ("shipments", r.shipments), ("returns", r.returns), ("support", r.support)):
        rows[source], files[source] = fn(landing / source)
    path = landing / "email" / f"events_{k + 1:05d}.csv"
    rows["email"] = write_csv(path, email_table)
    files["email"] = [path]
    web = web_events(w, k, p, o, c.unix, used[:, 0], s["last_t"], s["died"], canonical, pa.array(w.skus), _rng(spec.seed, k, 3))
    path = landing / "web" / f"events_{k + 1:05d}.csv"
    rows["web"] = write_csv(path, web)
    files["web"] = [path]
    persons, orders, identities = truth_tables(c, s, used)
    stats = chunk_stats(c, s, aud, used)
    nbytes = sum(f.stat().st_size for fs in files.values() for f in fs)
    return _ChunkResult(rows, {k2: len(v) for k2, v in files.items()}, nbytes, stats, persons, orders, identities)


# ---------------------------------------------------------------- customer-independent sources


def _write_catalog(w: World, landing: Path) -> int:
    table = pa.table({
        "sku": pa.array(w.skus),
        "product_id": pa.array([str(int(x)) for x in w.product_ids]),
        "title": pa.array([p[1] for p in ref.PRODUCTS]),
        "category": pa.array([p[2] for p in ref.PRODUCTS]),
        "category_type": pa.array([ref.CATEGORIES[p[2]] for p in ref.PRODUCTS]),
        "list_price_usd": pa.array([f"{p[3]:.2f}" for p in ref.PRODUCTS]),
        "launched_on": pa.array([p[4] for p in ref.PRODUCTS]),
    })
    return write_csv(landing / "catalog" / "products.csv", table)


def _write_fx(w: World, landing: Path) -> int:
    days = np.arange(w.fx_first_day, w.horizon + 1)
    n_cur = len(ref.CURRENCIES)
    dates = buf_to_arrow(date_buf(np.repeat(w.start_epoch_day + days, n_cur)))
    cur = pa.array(list(ref.CURRENCIES) * len(days))
    rates = w.fx[days - w.fx_first_day]
    text = [f"{x:.8f}".rstrip("0").rstrip(".") for x in rates.ravel().tolist()]
    return write_csv(landing / "fx" / "fx_rates.csv", pa.table({"rate_date": dates, "currency": cur, "usd_per_unit": pa.array(text)}))


def _ad_rows(w: World, campaigns: tuple, rng: np.random.Generator) -> list[tuple]:
    """Daily rows per campaign: spend scales with the customer base and the season.

    BFCM campaigns run from ten days before Black Friday to Cyber Monday; the others run most of
    the history (30% stop half-way or later).
    """
    scale = max(w.customers, 1000) / 1000.0
    n = len(w.bfcm)
    bfcm_flight = np.array([w.bfcm[d : min(d + 11, n)].any() for d in range(n)])
    rows = []
    for ci, camp in enumerate(campaigns):
        market = camp[1]
        start = int(rng.integers(0, 120))
        end = w.horizon if rng.random() < 0.7 else int(rng.integers(w.horizon // 2, w.horizon))
        base = float(rng.uniform(0.4, 1.2)) * scale
        for d in range(start, end):
            if market == "BFCM" and not bfcm_flight[d]:
                continue
            spend = base * w.season[d] * float(rng.lognormal(0, 0.25))
            impressions = int(spend / float(rng.uniform(7, 14)) * 1000)
            clicks = int(impressions * float(rng.uniform(0.008, 0.018)))
            conversions = clicks * float(rng.uniform(0.015, 0.04))
            rows.append((d, ci, spend, impressions, clicks, conversions))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def _cursor(text: str) -> str:
    """An opaque paging cursor in the style of the Graph API."""
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()[:18]).decode()


def _write_ads(w: World, landing: Path) -> tuple[int, int, int, int]:
    rng = _rng(w.seed, 10**6, 1)
    meta_ids = [str(23_851_000_000_000_000 + int(x)) for x in (hash_u64(w.seed, np.arange(len(ref.META_CAMPAIGNS)), 7) % np.uint64(10**12))]
    rows = _ad_rows(w, ref.META_CAMPAIGNS, rng)
    by_year: dict[int, list] = {}
    for d, ci, spend, imp, clicks, conv in rows:
        date = (w.start + dt.timedelta(days=d)).isoformat()
        by_year.setdefault(int(date[:4]), []).append({
            "date_start": date, "date_stop": date, "campaign_id": meta_ids[ci], "campaign_name": ref.META_CAMPAIGNS[ci][0],
            "account_currency": "USD", "spend": f"{spend:.2f}", "impressions": str(imp), "clicks": str(clicks),
            "actions": [{"action_type": "link_click", "value": str(clicks)}, {"action_type": "purchase", "value": str(int(round(conv)))}],
        })
    meta_files = 0
    for year, data in sorted(by_year.items()):
        write_json(landing / "meta_ads" / f"insights_{year}.json",
                   {"data": data, "paging": {"cursors": {"before": _cursor(f"{year}:0"), "after": _cursor(f"{year}:{len(data)}")}}})
        meta_files += 1
    rng = _rng(w.seed, 10**6, 2)
    g_ids = [str(10_000_000_000 + int(x)) for x in (hash_u64(w.seed, np.arange(len(ref.GOOGLE_CAMPAIGNS)), 8) % np.uint64(9 * 10**10))]
    g_rows = _ad_rows(w, ref.GOOGLE_CAMPAIGNS, rng)
    g_by_year: dict[int, list] = {}
    for d, ci, spend, imp, clicks, conv in g_rows:
        date = (w.start + dt.timedelta(days=d)).isoformat()
        currency = ref.GOOGLE_CAMPAIGNS[ci][2]
        local = spend / ref.FX_LEVEL[currency]
        g_by_year.setdefault(int(date[:4]), []).append((date, g_ids[ci], ref.GOOGLE_CAMPAIGNS[ci][0], currency,
                                                        str(int(round(local, 2) * 1_000_000)), str(imp), str(clicks), f"{conv:.2f}"))
    names = ("segments.date", "campaign.id", "campaign.name", "customer.currency_code", "metrics.cost_micros",
             "metrics.impressions", "metrics.clicks", "metrics.conversions")
    for year, data in sorted(g_by_year.items()):
        cols = list(zip(*data, strict=True))
        write_csv(landing / "google_ads" / f"campaign_performance_{year}.csv",
                  pa.table({n: pa.array(list(col), pa.string()) for n, col in zip(names, cols, strict=True)}))
    return len(rows), meta_files, len(g_rows), len(g_by_year)


# ---------------------------------------------------------------- truth.json


def _truth_json(w: World, stats: dict, rows: dict, files: dict, chunks: int, chunk_size: int) -> dict:
    def rate(a: int, b: int) -> float | None:
        return round(a / b, 4) if b else None

    natural = {SEGMENTS[i]: float(BASE_DEATH[i]) for i in range(len(SEGMENTS))}

    def effect(key: str) -> dict:
        q = DRIVER_DEATH_P[key]
        return {
            "mechanism": "competing risk: after an order hit by the driver the person churns for good with this probability, "
                         "independently of the natural churn risk",
            "death_probability_if_hit": q,
            "death_probability_after_order": {
                seg: {"without": round(b, 4), "with": round(1 - (1 - b) * (1 - q), 4)} for seg, b in natural.items()
            },
        }

    planted = {
        "logistics": {
            "region": "Europe", "countries": list(ref.EUROPE), "min_delivery_days": LONG_DELIVERY_DAYS + 1,
            "rule": f"delivery_days > {LONG_DELIVERY_DAYS} and destination in Europe", "slow_carrier": ref.SLOW_CARRIER,
            "slow_lane_share_of_european_merchant_orders": {"ebay": 0.34, "shopify": 0.22, "amazon_merchant": 0.16},
            "slow_lane_transit_days": [21, 36], "normal_lanes_max_days": 17,
            "customs_delay_share_of_european_national_post": 0.03,
            "control": "the same slow carrier also serves AU, JP and MX (deliveries > 20 days) with no planted churn effect",
        },
        "product_quality": {"sku": ref.BAD_SKU, "title": dict((p[0], p[1]) for p in ref.PRODUCTS)[ref.BAD_SKU],
                            "return_rate": BAD_SKU_RETURN_RATE, "return_reasons": {"quality": 0.6, "not_as_described": 0.4},
                            "rule": f"order contains {ref.BAD_SKU} and that line is returned", "other_skus_return_rate": "1.5%-12%"},
        "service": {"rule": "a complaint ticket (is_complaint = true) about the order that is never solved "
                            "(status open or pending, solved_at empty)",
                    "ticket_rate": "2.5% of orders, +30 points after a delivery > 20 days, +30 points after a return",
                    "unresolved_share_of_complaints": 0.35},
        "price": {"person_trait": "is_price_sensitive", "share_of_persons": PRICE_SENSITIVE_SHARE,
                  "discount_rate": {"price_sensitive": 0.72, "others": 0.09},
                  "rule": "a price-sensitive person orders without a discount (Shopify discount_codes, Amazon "
                          "item-promotion-discount, eBay priceDiscount); Walmart orders carry no discounts and are exempt"},
        "engagement": {"person_trait": "is_disengaging (email-list persons; 50% of repeat-prone, 12.5% of one-time-prone)",
                       "rule": f"order placed {ENGAGEMENT_LAG_DAYS:.0f}+ days after the person's disengage_started_at",
                       "open_rate": f"person's base open rate x exp(-(days since disengage start) / {ENGAGEMENT_DECAY_DAYS:g}), floor 4%",
                       "disengagement_starts": "20-300 days after the first order"},
    }
    descriptions = {
        "logistics": "Deliveries to European addresses that take more than 20 days (mostly the Yanwen Economy lane) make the "
                     "customer much more likely to never order again.",
        "product_quality": f"{ref.BAD_SKU} (Wireless Earbuds Pro) has a defective batch: about 35% of units come back as quality / "
                           "not_as_described; customers who bought and returned it churn much more.",
        "service": "Complaint tickets that are never resolved (left open or pending) drive the customer away.",
        "price": "Price-sensitive customers mostly order with a discount; after an order at full price they churn much more.",
        "engagement": "Before churning, some customers' email engagement fades: opens decay from their disengagement start, "
                      "and their orders 60+ days later carry a high churn risk; active customers keep opening.",
    }
    where = {
        "logistics": "shipments.csv (carrier, destination_country, delivered_at) joined to the platform order time",
        "product_quality": "returns.csv (sku, reason) and the platform order lines",
        "service": "support tickets (is_complaint, status, solved_at, order_ref)",
        "price": "Shopify discount_codes / total_discounts, Amazon item-promotion-discount, eBay pricingSummary.priceDiscount",
        "engagement": "email events (send/open) per email address over time",
    }
    drivers = []
    for key in ("logistics", "product_quality", "service", "price", "engagement"):
        obs = {
            "orders_hit": stats[f"{key}.orders_hit"],
            "order_death_rate_hit": rate(stats[f"{key}.orders_hit_died"], stats[f"{key}.orders_hit"]),
            "order_death_rate_only_this_driver": rate(stats[f"{key}.orders_only_this_driver_died"], stats[f"{key}.orders_only_this_driver"]),
            "order_death_rate_no_driver": rate(stats["orders_no_driver_died"], stats["orders_no_driver"]),
            "persons_hit": stats[f"{key}.persons_hit"],
            "churn_rate_persons_hit": rate(stats[f"{key}.persons_hit_churned"], stats[f"{key}.persons_hit"]),
            "churn_rate_persons_never_hit": rate(stats["persons_never_hit_churned"], stats["persons_never_hit"]),
            "churns_attributed": stats[f"{key}.deaths_attributed"],
            "next_order_rate_hit": rate(stats[f"{key}.old_orders_hit_with_next"], stats[f"{key}.old_orders_hit"]),
            "next_order_rate_no_driver": rate(stats["old_orders_no_driver_with_next"], stats["old_orders_no_driver"]),
        }
        drivers.append({"name": DRIVER_NAME[key], "cause": key, "description": descriptions[key], "where": where[key],
                        "planted": planted[key], "effect": effect(key), "observed": obs})
    # competing risks are checked in this order; the first that fires is the recorded cause
    orders = stats["orders"]
    return {
        "generator": "ingest.demo.generator",
        "seed": w.seed,
        "as_of": w.as_of.isoformat(),
        "years": w.years,
        "history_start": w.start.isoformat(),
        "customers": w.customers,
        "chunks": chunks,
        "chunk_size": chunk_size,
        "data_window_utc": {"from": f"{w.start.isoformat()}T00:00:00Z", "until_exclusive": f"{w.as_of.isoformat()}T00:00:00Z"},
        "churn_definition": {
            "churned": f"died after an order, or no order in the {CHURN_INACTIVE_DAYS} days before as_of",
            "churn_at_date": "UTC date of the person's last non-cancelled order",
            "churn_driver": "the planted driver whose competing risk fired after the last order; null = natural churn or still active",
        },
        "purchase_model": {
            "segments": {SEGMENTS[i]: {"share": float(SEGMENT_SHARE[i]), "mean_days_between_orders": float(SEGMENT_INTERVAL_DAYS[i]),
                                       "natural_death_probability_after_order": float(BASE_DEATH[i])} for i in range(len(SEGMENTS))},
            "driver_check_order": [DRIVER_NAME[k] for k in DRIVER_ORDER],
        },
        "drivers": drivers,
        "campaign_effect": {
            "rule": f"recipients of an email campaign buy at {CAMPAIGN_BOOST:g}x their rate for {CAMPAIGN_WINDOW_DAYS:g} days after the "
                    "send; audiences are a random draw of the email list, so list members not drawn are a comparable control",
            "purchase_rate_multiplier": CAMPAIGN_BOOST, "window_days": CAMPAIGN_WINDOW_DAYS, "campaigns": len(w.campaigns),
            "observed": {
                "exposed_person_sends": stats["campaign.exposed_pairs"],
                "exposed_orders_in_window": stats["campaign.exposed_orders"],
                "control_person_sends": stats["campaign.control_pairs"],
                "control_orders_in_window": stats["campaign.control_orders"],
                "orders_per_100_exposed": round(100 * stats["campaign.exposed_orders"] / max(stats["campaign.exposed_pairs"], 1), 3),
                "orders_per_100_control": round(100 * stats["campaign.control_orders"] / max(stats["campaign.control_pairs"], 1), 3),
            },
        },
        "seasonality": {
            "month_factor": {"jan": 0.80, "feb": 0.78, "mar": 0.90, "apr": 0.92, "may": 0.95, "jun": 0.90, "jul": 0.88, "aug": 0.93,
                             "sep": 0.97, "oct": 1.05, "nov": 1.55, "dec": 1.45},
            "black_friday_to_cyber_monday_multiplier": 1.9, "dec_24_31_multiplier": 0.6,
            "note": "Q4 peaks are normal demand, not churn; acquisitions follow the same curve on a growing trend",
        },
        "replenishment": {
            "who": "regular and loyal persons whose favourite category is consumable (65% of them)",
            "cycle_days": "28 x U(0.85, 1.2) per person, gamma-distributed gaps (shape 12)",
            "persons": stats["replenishers"],
            "observed_mean_gap_days": round(stats["replenisher_gap_sum"] / max(stats["replenisher_gap_count"], 1), 2),
        },
        "observed": {
            "persons": stats["persons"],
            "orders": orders,
            "cancelled_orders": stats["cancelled_orders"],
            "one_time_buyer_share": rate(stats["one_time_buyers"], stats["persons"]),
            "multi_platform_share": rate(stats["multi_platform_persons"], stats["persons"]),
            "price_sensitive_share": rate(stats["price_sensitive_persons"], stats["persons"]),
            "churn_rate": rate(stats["churned_persons"], stats["persons"]),
            "died_share": rate(stats["died_persons"], stats["persons"]),
            "platform_order_share": {pl: rate(stats[f"platform_orders.{pl}"], orders) for pl in ref.PLATFORMS},
            "bad_sku_return_rate": rate(stats["bad_sku_orders_returned"], stats["bad_sku_orders"]),
            "other_orders_return_rate": rate(stats["other_orders_returned"], stats["other_orders"]),
            "eu_orders_over_20_days_share": rate(stats["eu_orders_over_20_days"], stats["eu_orders"]),
            "order_death_rate_no_driver_by_segment": {
                seg: rate(stats[f"orders_no_driver_died_{seg}"], stats[f"orders_no_driver_{seg}"]) for seg in SEGMENTS},
        },
        "rows": rows,
        "files": files,
        "notes": {
            "visibility": "the simulation knows events after as_of (late deliveries, returns, tickets); landing files only "
                          "contain what happened before as_of, so a few recent hits are not yet visible",
            "ebay_price_discount": "pricingSummary.priceDiscount is negative (eBay convention), 0.00 without discount",
            "amazon_promotion_discount": "item-promotion-discount is a positive amount to subtract",
        },
    }


# ---------------------------------------------------------------- entry points


def generate(out_dir: Path, customers: int, seed: int = 42, as_of: dt.date = DEFAULT_AS_OF, years: int = 3,
             progress: Progress | None = None, workers: int | None = None, chunk_size: int = CHUNK_SIZE) -> GenerationSummary:
    """Write landing/<source>/ files and truth/ under out_dir; same arguments -> byte-identical files.

    `workers` (default min(2, CPUs)) does not change the output; `chunk_size` does (it is
    part of the data set's identity, like the seed) and stays at its default in normal use.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if not 100 <= chunk_size <= 200_000:
        raise ValueError("chunk_size must be between 100 and 200,000")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    landing = out_dir / "landing"
    truth_dir = out_dir / "truth"
    # Remove what an earlier run wrote (a bigger run leaves more chunk files), nothing else:
    # out_dir may hold files a user dropped in.
    for source in SOURCES:
        (landing / source).mkdir(parents=True, exist_ok=True)
        for pattern in _OWN_FILES[source]:
            for stale in (landing / source).glob(pattern):
                stale.unlink()
    truth_dir.mkdir(parents=True, exist_ok=True)
    for name in ("truth.json", "persons.parquet", "orders.parquet", "identities.parquet"):
        (truth_dir / name).unlink(missing_ok=True)
    report = progress or (lambda stage, share: None)
    report("reference data", 0.0)
    w = _world(seed, as_of, years, customers)
    rows: dict[str, int] = {s: 0 for s in SOURCES}
    files: dict[str, int] = {s: 0 for s in SOURCES}
    rows["catalog"] = _write_catalog(w, landing)
    rows["fx"] = _write_fx(w, landing)
    rows["meta_ads"], files["meta_ads"], rows["google_ads"], files["google_ads"] = _write_ads(w, landing)
    files["catalog"] = files["fx"] = 1
    report("reference data", 1.0)

    n_chunks = math.ceil(customers / chunk_size)
    specs = [_ChunkSpec(str(out_dir), seed, as_of, years, customers, k, chunk_size) for k in range(n_chunks)]
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    writers: dict[str, pq.ParquetWriter] = {}
    totals: dict = {}
    report("customers", 0.0)
    pool = None
    saved_env = {name: os.environ.get(name) for name in _THREAD_VARS}
    try:
        if workers > 1 and n_chunks > 1:
            # One thread per worker: idle BLAS/Arrow pool threads spinning in two processes on a
            # 2-core machine halve the throughput. Spawned workers inherit this environment.
            os.environ.update({name: "1" for name in _THREAD_VARS})
            pool = ProcessPoolExecutor(max_workers=min(workers, n_chunks), mp_context=multiprocessing.get_context("spawn"))
            results = pool.map(_run_chunk, specs)
        else:
            results = map(_run_chunk, specs)
        for done, res in enumerate(results, start=1):
            for name, table in (("persons", res.persons), ("orders", res.orders), ("identities", res.identities)):
                if name not in writers:
                    writers[name] = pq.ParquetWriter(truth_dir / f"{name}.parquet", table.schema, compression="zstd")
                writers[name].write_table(table)
            for key, value in res.rows.items():
                rows[key] += value
            for key, value in res.files.items():
                files[key] += value
            for key, value in res.stats.items():
                totals[key] = totals.get(key, 0) + value
            report("customers", done / n_chunks)
    finally:
        if pool is not None:
            pool.shutdown()
        for writer in writers.values():
            writer.close()
        for name, value in saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    truth = _truth_json(w, totals, rows, files, n_chunks, chunk_size)
    (truth_dir / "truth.json").write_bytes(orjson.dumps(truth, option=orjson.OPT_INDENT_2))
    bytes_written = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file() and (f.is_relative_to(landing) or f.is_relative_to(truth_dir)))
    report("truth", 1.0)
    return GenerationSummary(out_dir, customers, seed, as_of, years, n_chunks, time.perf_counter() - started, rows, files,
                             bytes_written, truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest.demo.generator", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=DEFAULT_AS_OF)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("data/demo"))
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: min(2, CPUs))")
    args = parser.parse_args(argv)

    from rich.console import Console
    from rich.progress import BarColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress

    console = Console(stderr=True)
    with RichProgress(TextColumn("{task.description:<16}"), BarColumn(), TextColumn("{task.percentage:>5.1f}%"),
                      TimeElapsedColumn(), console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, share: float) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=1.0)
            bar.update(tasks[stage], completed=share)

        summary = generate(args.out, args.customers, args.seed, args.as_of, args.years, progress, args.workers)
    console.print(f"{summary.customers:,} customers, {summary.chunks} chunk(s), {summary.seconds:.1f} s, "
                  f"{summary.bytes_written / 1e6:,.1f} MB -> {summary.out_dir}")
    for source in SOURCES:
        console.print(f"  {source:<11} {summary.rows[source]:>12,} rows  {summary.files[source]:>5} file(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

