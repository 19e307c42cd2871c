"""Who the persons are on each platform: names, addresses, e-mails, phones and platform keys.

Identifiers are unique per person by construction (bijective numbering), so identity
resolution downstream can be checked against `truth/identities.parquet`. The same person
shows up with differently formatted identifiers on different platforms: e-mail case and
whitespace, phone formats (international, national, 00-prefixed), name case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from text_unidecode import unidecode

from ingest.demo import reference as ref
from ingest.demo.fmt import hash_u64, permute
from ingest.demo.simulate import Persons
from ingest.demo.world import World

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_CA_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


def _ascii(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unidecode(name).lower())


def _pool(names: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(n, _ascii(n)) for n in names]


FIRST = {k: _pool(v) for k, v in ref.FIRST_NAMES.items()}
LAST = {k: _pool(v) for k, v in ref.LAST_NAMES.items()}
ZH_FIRST = [(d, a.lower()) for d, a in ref.HANZI_FIRST]
ZH_LAST = [(d, a.lower()) for d, a in ref.HANZI_LAST]
PINYIN_FIRST = [(a, a.lower()) for a in ref.PINYIN_FIRST]
PINYIN_LAST = [(a, a.lower()) for a in ref.PINYIN_LAST]
KANJI_FIRST = [(d, a.lower()) for d, a in ref.KANJI_FIRST]
KANJI_LAST = [(d, a.lower()) for d, a in ref.KANJI_LAST]


def _b36(values: np.ndarray, width: int) -> list[str]:
    v = np.asarray(values, dtype=np.uint64)
    digits = np.empty((len(v), width), dtype=np.uint8)
    table = np.frombuffer(_B36.encode(), dtype=np.uint8)
    for i in range(width - 1, -1, -1):
        digits[:, i] = table[(v % np.uint64(36)).astype(np.int64)]
        v = v // np.uint64(36)
    text = digits.tobytes().decode()
    return [text[i : i + width] for i in range(0, len(text), width)]


@dataclass
class Identities:
    first: list[str]
    last: list[str]
    canonical_email: list[str]
    shopify_email: list[str]
    ebay_email: list[str]
    shopify_first: list[str]
    shopify_last: list[str]
    amazon_name: list[str]
    ebay_name: list[str]
    walmart_name: list[str]
    phone_e164: list[str]
    phone_intl: list[str]
    phone_national: list[str]
    phone_idd: list[str]
    phone_digits: list[str]
    shopify_phone: list[str | None]
    shipping_phone: list[str]
    ebay_phone: list[str]
    address1: list[str]
    zip: list[str]
    shopify_customer_id: np.ndarray
    ebay_username: list[str]
    amazon_relay: list[str]
    walmart_relay: list[str]
    main_email: list[str]
    has_real_email: np.ndarray


def build_identities(w: World, p: Persons, platforms_used: np.ndarray, rng: np.random.Generator) -> Identities:
    """platforms_used: (n, 4) bool, the platforms each person actually ordered on."""
    n = p.n
    # plain Python lists: the per-person loop below must not touch numpy scalars
    codes = np.array(w.country_codes)[p.country].tolist()
    multi = (platforms_used.sum(axis=1) >= 2).tolist()
    cities = p.city.tolist()
    u = rng.random((n, 12)).tolist()
    ri = rng.integers(0, 1 << 30, (n, 8)).tolist()
    number_digits = 6 if w.customers <= 1_000_000 else 8 if w.customers <= 100_000_000 else 10
    unique = permute(p.gidx, number_digits, w.seed + 11).tolist()
    unique_b36 = _b36(permute(p.gidx, 10, w.seed + 12), 7)
    relay_amazon = _b36(hash_u64(w.seed, p.gidx, 1), 13)
    phone_rand = hash_u64(w.seed, p.gidx, 5).tolist()
    walmart_hex = [f"{h:016X}{g:016X}" for h, g in zip(hash_u64(w.seed, p.gidx, 3).tolist(), hash_u64(w.seed, p.gidx, 4).tolist(), strict=True)]
    country_info = {}
    for cc in set(codes):
        info = ref.COUNTRIES[cc]
        cc_code, prefixes, length, intl_mask, nat_mask, trunk, idd = ref.PHONES[cc]
        intl_fmt = intl_mask.replace("#", "{}")
        nat_fmt = nat_mask.replace("#", "{}")
        low = [min(length - len(pre), len(str((10**number_digits - 1) // len(prefixes)))) for pre in prefixes]
        country_info[cc] = (info["pool"], ref.EMAIL_DOMAINS[cc], cc_code, prefixes, length, intl_fmt, nat_fmt, trunk, idd, low,
                            info["amazon"][1], ref.STREETS[ref.STREET_POOL[info["pool"]]], cc in ref.NUMBER_FIRST,
                            cc in ref.EUROPE, cc in ("US", "CA"), cc == "JP")

    out: dict[str, list] = {k: [] for k in Identities.__dataclass_fields__ if k not in ("shopify_customer_id", "has_real_email")}
    for i in range(n):
        cc = codes[i]
        (pool, domains, cc_code, prefixes, length, intl_fmt, nat_fmt, trunk, idd, lows, tld, streets, number_first, europe,
         nanp, japan) = country_info[cc]
        ui = u[i]
        r = ri[i]
        # ---- names
        if ui[0] < 0.001:
            fd, fa = ref.HTML_FIRST[r[0] % len(ref.HTML_FIRST)]
            ld, la = LAST["en"][r[1] % len(LAST["en"])]
        elif pool == "en" and ui[0] < 0.05:
            hanzi = ui[1] < 0.5
            fd, fa = (ZH_FIRST if hanzi else PINYIN_FIRST)[r[0] % len(ZH_FIRST)]
            ld, la = (ZH_LAST if hanzi else PINYIN_LAST)[r[1] % len(ZH_LAST)]
        elif pool == "ja" and ui[1] < 0.3:
            fd, fa = KANJI_FIRST[r[0] % len(KANJI_FIRST)]
            ld, la = KANJI_LAST[r[1] % len(KANJI_LAST)]
        else:
            fp, lp = FIRST[pool], LAST[pool]
            if pool == "ie" and ui[1] < 0.5:
                fp, lp = FIRST["en"], LAST["en"]
            fd, fa = fp[r[0] % len(fp)]
            ld, la = lp[r[1] % len(lp)]
        out["first"].append(fd)
        out["last"].append(ld)
        full = f"{ld} {fd}" if "\u3040" <= fd[0] <= "\u9fff" else f"{fd} {ld}"
        # ---- e-mail: unique by the person number in the local part
        dom = domains[r[2] % len(domains)] if ui[2] < 0.6 else "gmail.com"
        num = unique[i]
        fa = fa or "x"
        la = la or "y"
        pattern = r[3] % 5
        if pattern == 0:
            email = f"{fa}.{la}{num}@{dom}"
        elif pattern == 1:
            email = f"{fa}{la}{num}@{dom}"
        elif pattern == 2:
            email = f"{fa[0]}.{la}{num}@{dom}"
        elif pattern == 3:
            email = f"{fa}_{la}{num}@{dom}"
        else:
            email = f"{la}.{fa}{num}@{dom}"
        out["canonical_email"].append(email)
        m = multi[i]
        out["shopify_email"].append(_email_variant(email, r[4] % 3) if ui[3] < (0.55 if m else 0.08) else email)
        out["ebay_email"].append(_email_variant(email, 2) if (m and ui[4] < 0.3) else email)
        # ---- name case variants across platforms
        out["shopify_first"].append(fd)
        out["shopify_last"].append(ld)
        out["amazon_name"].append(full.upper() if ui[5] < 0.15 else full.lower() if ui[5] < 0.20 else full)
        out["ebay_name"].append(full.lower() if ui[6] < 0.10 else full)
        out["walmart_name"].append(full.upper() if ui[6] > 0.9 else full)
        # ---- phone: a valid mobile number for the country, unique per person
        k = num % len(prefixes)
        pre = prefixes[k]
        low = lows[k]
        n_high = length - len(pre) - low
        # the low digits carry the unique number, the high digits are random
        high = str(phone_rand[i] % 10 ** max(n_high, 1)).zfill(n_high)[:n_high]
        if nanp and high:
            high = str(2 + int(high[0]) % 8) + high[1:]
        nsn = pre + high + str((num // len(prefixes)) % 10**low).zfill(low)
        grouped = intl_fmt.format(*nsn)
        intl = f"+{cc_code} {grouped}"
        national = trunk + nat_fmt.format(*nsn)
        idd_form = f"{idd} {cc_code} {grouped}"
        e164 = f"+{cc_code}{nsn}"
        out["phone_e164"].append(e164)
        out["phone_intl"].append(intl)
        out["phone_national"].append(national)
        out["phone_idd"].append(idd_form)
        out["phone_digits"].append(nsn)
        out["shopify_phone"].append(e164 if ui[7] < 0.6 else None)
        out["shipping_phone"].append(intl if ui[8] < 0.7 else national)
        if europe and ui[9] < 0.35:
            out["ebay_phone"].append(idd_form)
        else:
            out["ebay_phone"].append(national if ui[9] < 0.75 else intl)
        # ---- address
        street = streets[r[5] % len(streets)]
        if japan:
            out["address1"].append(f"{street} {1 + r[6] % 9}-{1 + r[7] % 30}")
        elif number_first:
            out["address1"].append(f"{1 + r[6] % 180} {street}")
        else:
            out["address1"].append(f"{street} {1 + r[6] % 180}")
        out["zip"].append(_postal(w.cities[cities[i]], r[7]))
        # ---- platform keys
        out["ebay_username"].append(f"{fa[:8]}{la[:1]}_{unique_b36[i]}")
        out["amazon_relay"].append(f"{relay_amazon[i]}@marketplace.amazon.{tld}")
        out["walmart_relay"].append(f"{walmart_hex[i]}@relay.walmart.com")
    has_real = platforms_used[:, ref.SHOPIFY] | platforms_used[:, ref.EBAY]
    on_amazon = platforms_used[:, ref.AMAZON].tolist()
    out["main_email"] = [
        real if has else relay_a if amz else relay_w
        for real, relay_a, relay_w, has, amz in zip(
            out["canonical_email"], out["amazon_relay"], out["walmart_relay"], has_real.tolist(), on_amazon, strict=True
        )
    ]
    shopify_id = 6_500_000_000_000 + p.gidx * 13 + 4
    return Identities(shopify_customer_id=shopify_id, has_real_email=has_real, **out)


def _email_variant(email: str, kind: int) -> str:
    local, _, domain = email.partition("@")
    if kind == 0:  # "John.Smith@Gmail.com"
        return ".".join(part[:1].upper() + part[1:] for part in local.split(".")) + "@" + domain[:1].upper() + domain[1:]
    if kind == 1:  # stray whitespace from a form
        return "  " + email + " "
    return email.upper()


def _postal(city: tuple, r: int) -> str:
    kind, prefixes = city[3], city[4]
    pre = prefixes[r % len(prefixes)]
    x = (r // 7) % 100000
    if kind == "d2":
        return pre + str(x % 100).zfill(2)
    if kind == "d1":
        return pre + str(x % 10)
    if kind == "gb":
        return f"{pre} {x % 10}{_LETTERS[(x // 10) % 20]}{_LETTERS[(x // 200) % 20]}"
    if kind == "ca":
        return f"{pre} {x % 10}{_CA_LETTERS[(x // 10) % 20]}{(x // 200) % 10}"
    if kind == "nl":
        return f"{pre}{str(x % 100).zfill(2)} {_LETTERS[(x // 100) % 20]}{_LETTERS[(x // 2000) % 20]}"
    if kind == "jp":
        return f"{pre}-{str(x % 10000).zfill(4)}"
    if kind == "se":
        return f"{pre} {str(x % 100).zfill(2)}"
    if kind == "pl":
        return f"{pre}-{str(x % 1000).zfill(3)}"
    if kind == "ie":
        return f"{pre} {_LETTERS[x % 20]}{(x // 20) % 10}{(x // 200) % 10}{_LETTERS[(x // 2000) % 20]}"
    raise ValueError(kind)
