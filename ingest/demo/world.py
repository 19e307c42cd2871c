"""The shared, customer-independent part of a demo data set: calendar, seasonality, FX,
prices, email campaigns, time zones and lookup tables.

Built deterministically from (seed, as_of, years, customers); every worker process builds
its own copy, which is cheap, instead of receiving it by pickling.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from ingest.demo import reference as ref

DAY = 86400
# Length of the window after an email campaign send during which recipients buy more.
CAMPAIGN_WINDOW_DAYS = 14.0
CAMPAIGN_BOOST = 2.0


def _seed_rng(seed: int, *stream: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    send_unix: int
    audience_share: float
    code: str | None


class World:
    """Calendar and reference arrays shared by all chunks."""

    def __init__(self, seed: int, as_of: dt.date, years: int, customers: int):
        self.seed = seed
        self.as_of = as_of
        self.years = years
        self.customers = customers
        try:
            self.start = as_of.replace(year=as_of.year - years)
        except ValueError:  # 29 February
            self.start = as_of.replace(year=as_of.year - years, day=28)
        self.start_unix = int(dt.datetime(self.start.year, self.start.month, self.start.day, tzinfo=dt.UTC).timestamp())
        self.end_unix = int(dt.datetime(as_of.year, as_of.month, as_of.day, tzinfo=dt.UTC).timestamp())
        self.horizon = (as_of - self.start).days  # T_end in days since start; data is strictly before as_of 00:00 UTC
        self.start_epoch_day = self.start_unix // DAY
        self._build_lookups()
        self._build_calendar()
        self._build_fx()
        self._build_prices()
        self._build_campaigns()
        self._build_time_zones()

    # ------------------------------------------------------------ lookups
    def _build_lookups(self) -> None:
        codes = ref.COUNTRY_CODES
        self.country_codes = codes
        self.country_weights = np.array([ref.COUNTRIES[c]["weight"] for c in codes])
        self.country_weights /= self.country_weights.sum()
        self.is_europe = np.array([ref.COUNTRIES[c]["region"] == "Europe" for c in codes])
        self.cur_index = {c: i for i, c in enumerate(ref.CURRENCIES)}
        self.country_currency = np.array([self.cur_index[ref.COUNTRIES[c]["currency"]] for c in codes])
        self.tax_rate = np.array([ref.COUNTRIES[c]["tax"] for c in codes])
        # currency by (platform, country)
        cur = np.zeros((4, len(codes)), dtype=np.int64)
        for j, c in enumerate(codes):
            info = ref.COUNTRIES[c]
            cur[ref.SHOPIFY, j] = self.cur_index[info["currency"]]
            cur[ref.AMAZON, j] = self.cur_index[info["amazon"][2]]
            cur[ref.EBAY, j] = self.cur_index[info["ebay"]]
            cur[ref.WALMART, j] = self.cur_index["USD"]
        self.platform_currency = cur
        self.platform_weights = np.array([ref.PLATFORM_WEIGHTS.get(c, ref.PLATFORM_WEIGHTS["_"]) for c in codes], dtype=float)
        self.platform_weights /= self.platform_weights.sum(axis=1, keepdims=True)
        # cities, flattened
        self.cities: list[tuple] = []
        self.city_country: list[int] = []
        offsets, weights = [], []
        for j, c in enumerate(codes):
            offsets.append(len(self.cities))
            for city in ref.CITIES[c]:
                self.cities.append(city)
                self.city_country.append(j)
            weights.append(np.array([city[6] for city in ref.CITIES[c]], dtype=float))
        self.city_offset = np.array(offsets)
        self.city_weights = [w / w.sum() for w in weights]
        self.city_country = np.array(self.city_country)
        self.zones = sorted({city[5] for city in self.cities})
        self.city_zone = np.array([self.zones.index(city[5]) for city in self.cities])
        # catalogue
        self.skus = [p[0] for p in ref.PRODUCTS]
        self.n_sku = len(self.skus)
        self.categories = list(ref.CATEGORIES)
        self.sku_category = np.array([self.categories.index(p[2]) for p in ref.PRODUCTS])
        self.category_consumable = np.array([ref.CATEGORIES[c] == "consumable" for c in self.categories])
        self.sku_consumable = self.category_consumable[self.sku_category]
        self.sku_price_usd = np.array([p[3] for p in ref.PRODUCTS])
        self.sku_popularity = np.array([p[5] for p in ref.PRODUCTS], dtype=float)
        self.sku_popularity /= self.sku_popularity.sum()
        self.sku_launch_day = np.array([(dt.date.fromisoformat(p[4]) - self.start).days for p in ref.PRODUCTS], dtype=float)
        self.bad_sku = self.skus.index(ref.BAD_SKU)
        self.apparel = self.categories.index("apparel")
        # per category: skus and popularity, and a fallback sku launched before the history
        self.cat_skus = [np.flatnonzero(self.sku_category == k) for k in range(len(self.categories))]
        self.cat_pop = [self.sku_popularity[s] / self.sku_popularity[s].sum() for s in self.cat_skus]
        fallback = np.arange(self.n_sku)
        for s in range(self.n_sku):
            if self.sku_launch_day[s] > 0:
                same = [o for o in self.cat_skus[self.sku_category[s]] if self.sku_launch_day[o] <= 0]
                fallback[s] = same[0]
        self.sku_fallback = fallback
        width = max(len(x) for x in self.cat_skus)
        self.cat_pop_matrix = np.array([np.pad(x, (0, width - len(x))) for x in self.cat_pop])
        self.cat_sku_matrix = np.array([np.pad(x, (0, width - len(x)), constant_values=x[0]) for x in self.cat_skus])
        self.category_weights = np.array([self.sku_popularity[s].sum() for s in self.cat_skus])
        # stable product ids (Shopify-style 13 digits, ASINs, eBay item numbers)
        rng = _seed_rng(self.seed, 900)
        self.product_ids = 8_000_000_000_000 + np.sort(rng.choice(900_000_000, self.n_sku, replace=False)).astype(np.int64) * 1000
        self.variant_ids = 44_000_000_000_000 + np.sort(rng.choice(900_000_000, self.n_sku, replace=False)).astype(np.int64) * 100
        alphabet = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
        self.asins = ["B0" + "".join(rng.choice(alphabet, 8)) for _ in range(self.n_sku)]
        self.ebay_item_ids = [str(v) for v in 110_000_000_000 + rng.choice(90_000_000_000, self.n_sku, replace=False)]

    # ------------------------------------------------------------ calendar
    def _build_calendar(self) -> None:
        n = self.horizon + 400
        days = np.arange(n)
        y, m, d = (np.asarray(a) for a in _civil(self.start_epoch_day + days))
        self.day_month = m
        month_factor = np.array([0, 0.80, 0.78, 0.90, 0.92, 0.95, 0.90, 0.88, 0.93, 0.97, 1.05, 1.55, 1.45])
        season = month_factor[m].astype(float)
        # Black Friday .. Cyber Monday, and the pre-Christmas rush
        bfcm = np.zeros(n, dtype=bool)
        for year in range(int(y.min()), int(y.max()) + 1):
            nov1 = dt.date(year, 11, 1)
            thanksgiving = nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 21)
            black_friday = (thanksgiving + dt.timedelta(days=1) - self.start).days
            bfcm[max(black_friday, 0) : max(black_friday + 4, 0)] = True
        season = np.where(bfcm, season * 1.9, season)
        season = np.where((m == 12) & (d >= 24), season * 0.6, season)
        # weekday rhythm (Sunday evening browsing converts better)
        weekday = (self.start_epoch_day + days + 3) % 7  # 0 = Monday
        season = season * np.array([1.02, 1.0, 0.98, 0.98, 0.96, 0.95, 1.11])[weekday]
        season = season / season[: self.horizon].mean()
        self.season = season
        self.bfcm = bfcm
        self.season_max = float(season.max())
        # acquisition: a growing business (new customers per day ramps up 0.5 -> 1.5) with the same seasonality
        ramp = 0.5 + days[: self.horizon] / self.horizon
        w = ramp * season[: self.horizon]
        self.acquisition_cdf = np.cumsum(w) / w.sum()

    # ------------------------------------------------------------ fx
    def _build_fx(self) -> None:
        """Daily USD-per-unit rates: a mean-reverting log random walk around realistic levels."""
        self.fx_first_day = -7
        n = self.horizon + 400 - self.fx_first_day
        rng = _seed_rng(self.seed, 901)
        rates = np.ones((n, len(ref.CURRENCIES)))
        for k, cur in enumerate(ref.CURRENCIES):
            level = math.log(ref.FX_LEVEL[cur])
            vol = ref.FX_VOL[cur]
            x = level + rng.normal(0, 0.03) if vol else 0.0
            shocks = rng.normal(0, vol, n) if vol else np.zeros(n)
            for i in range(n):
                x = x + 0.01 * (level - x) + shocks[i]
                rates[i, k] = math.exp(x)
        digits = {"JPY": 8, "MXN": 6, "SEK": 6, "PLN": 6}
        for k, cur in enumerate(ref.CURRENCIES):
            rates[:, k] = np.round(rates[:, k], digits.get(cur, 5))
        self.fx = rates  # row i = day (fx_first_day + i) since start

    def fx_rate(self, day: np.ndarray, cur: np.ndarray) -> np.ndarray:
        """USD per unit of `cur` on the UTC date `day` (days since start)."""
        return self.fx[np.asarray(day, dtype=np.int64) - self.fx_first_day, cur]

    # ------------------------------------------------------------ prices
    def _build_prices(self) -> None:
        """Local list prices per (sku, currency) in minor units, rounded the way shops price."""
        prices = np.zeros((self.n_sku, len(ref.CURRENCIES)), dtype=np.int64)
        self.cur_decimals = np.array([0 if c in ref.ZERO_DECIMAL else 2 for c in ref.CURRENCIES])
        ship_fee = np.zeros(len(ref.CURRENCIES), dtype=np.int64)
        free_over = np.zeros(len(ref.CURRENCIES), dtype=np.int64)
        for k, cur in enumerate(ref.CURRENCIES):
            level = ref.FX_LEVEL[cur]
            markup = 1.0 if cur == "USD" else 1.08  # cross-border prices carry duties and VAT
            local = self.sku_price_usd * markup / level
            if cur == "JPY":
                prices[:, k] = (np.ceil(local / 100) * 100 - 20).astype(np.int64)
                ship_fee[k], free_over[k] = 700, 7000
            elif cur in ("SEK", "MXN"):
                prices[:, k] = ((np.ceil(local / 10) * 10 - 1) * 100).astype(np.int64)
                ship_fee[k] = int(round(5.0 / level / 10) * 10 * 100 - 100)
                free_over[k] = int(round(50.0 / level / 100) * 100 * 100)
            else:
                prices[:, k] = (np.ceil(local) * 100 - 1).astype(np.int64)
                ship_fee[k] = int(math.ceil(4.99 / level) * 100 - 1)
                free_over[k] = int(round(50.0 / level) * 100)
        self.price = prices
        self.ship_fee = ship_fee
        self.free_shipping_over = free_over

    # ------------------------------------------------------------ campaigns
    def _build_campaigns(self) -> None:
        """Email campaigns every 14-17 days; sale campaigns carry a discount code."""
        rng = _seed_rng(self.seed, 902)
        campaigns: list[Campaign] = []
        day = 9
        seen: dict[str, int] = {}
        while day < self.horizon - 1:
            date = self.start + dt.timedelta(days=day)
            themes = ref.MONTH_THEMES[date.month]
            theme = themes[0] if date.day <= 15 else themes[1]
            bf = self._black_friday(date.year)
            if date.month == 11 and abs((date - bf).days) <= 8:
                theme = "Black Friday"
                date = bf
                day = (date - self.start).days
            name = f"{theme} {date.year}" if theme in ref.SALE_CODES else f"{theme} {date:%B} {date.year}"
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name} #{seen[name]}"
            code = ref.SALE_CODES.get(theme)
            share = 0.85 if theme in ("Black Friday", "Cyber Monday") else float(rng.uniform(0.30, 0.55))
            send = self.start_unix + day * DAY + int(rng.integers(13, 17)) * 3600
            campaigns.append(Campaign(f"cmp_{len(campaigns) + 1:04d}", name, send, round(share, 3), code))
            day += int(rng.integers(14, 18))
        self.campaigns = campaigns
        self.campaign_send = np.array([(c.send_unix - self.start_unix) / DAY for c in campaigns])
        self.campaign_share = np.array([c.audience_share for c in campaigns])
        self.campaign_has_code = np.array([c.code is not None for c in campaigns])
        self.campaign_sale = self.campaign_has_code

    @staticmethod
    def _black_friday(year: int) -> dt.date:
        nov1 = dt.date(year, 11, 1)
        return nov1 + dt.timedelta(days=(3 - nov1.weekday()) % 7 + 22)

    # ------------------------------------------------------------ time zones
    def _build_time_zones(self) -> None:
        """UTC offset (minutes) lookup: transitions per zone, found by day scan + hour bisection."""
        lo = self.start_unix - 30 * DAY
        hi = self.end_unix + 400 * DAY
        keys, offs = [], []
        for z, name in enumerate(self.zones):
            zone = ZoneInfo(name)

            def off(t: int, zone: ZoneInfo = zone) -> int:
                return int(dt.datetime.fromtimestamp(t, zone).utcoffset().total_seconds() // 60)

            keys.append((z << 40) + 0)
            offs.append(off(lo))
            t = lo
            prev = off(t)
            while t < hi:
                nxt = t + DAY
                o = off(nxt)
                if o != prev:
                    a, b = t, nxt  # off(a) == prev, off(b) == o
                    while b - a > 60:
                        mid = (a + b) // 2
                        if off(mid) == prev:
                            a = mid
                        else:
                            b = mid
                    keys.append((z << 40) + b)
                    offs.append(o)
                    prev = o
                t = nxt
        self.tz_keys = np.array(keys, dtype=np.int64)
        self.tz_offsets = np.array(offs, dtype=np.int64)

    def utc_offset_min(self, zone: np.ndarray, unix: np.ndarray) -> np.ndarray:
        q = (np.asarray(zone, dtype=np.int64) << 40) + np.asarray(unix, dtype=np.int64)
        return self.tz_offsets[np.searchsorted(self.tz_keys, q, side="right") - 1]

    # ------------------------------------------------------------ helpers
    def to_unix(self, t_days: np.ndarray) -> np.ndarray:
        return self.start_unix + np.round(np.asarray(t_days) * DAY).astype(np.int64)

    @cached_property
    def date_strings(self) -> list[str]:
        return [(self.start + dt.timedelta(days=i)).isoformat() for i in range(self.fx_first_day, self.horizon + 1)]


def _civil(epoch_days: np.ndarray):
    from ingest.demo.fmt import civil_from_days

    return civil_from_days(epoch_days)
