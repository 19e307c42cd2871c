"""Identifier normalisation and hashing for audience exports.

The rules follow `shared/reference/AUDIENCES.md` (the binding file-format notes):

Meta Custom Audiences (every key SHA-256 hex lowercase except ``extern_id``)
    email    trim, lowercase
    phone    digits only with the country code, no '+', no leading zeros. The number is
             parsed with ``phonenumbers`` using the customer's country as default region,
             so "020 7031 3000" (GB) and "+44 20 7031 3000" both become "442070313000".
    fn, ln   lowercase, no punctuation, digits or spaces. Letters outside a-z are *kept*
             as UTF-8 after NFC composition ("Zoë" -> "zoë", "王" -> "王"): Meta accepts
             special characters in names, and composing first means "e" + combining
             diaeresis hashes the same as the precomposed "ë".
    ct       lowercase, no punctuation, no spaces; accents are folded to a-z ("München" ->
             "munchen") because Meta matches cities on a-z only; non-Latin letters that
             cannot be folded are kept rather than dropping the whole city.
    st       US: two-letter code lowercase (full state names are mapped); elsewhere
             lowercase without punctuation or spaces.
    zip      lowercase, no spaces; US: first five digits (left-padded when a leading zero
             was lost to an integer column).
    country  ISO 3166-1 alpha-2, lowercase.

Google Customer Match
    Email, First Name, Last Name: trimmed, lowercased (email without inner spaces), hashed.
    Phone: E.164 *with* '+' (e.g. "+442070313000"), hashed.
    Country (alpha-2, upper case) and Zip (US: five digits) are sent unhashed.

An identifier that does not survive normalisation (unparseable phone, malformed email)
becomes ``None`` so the file gets an empty field, never the hash of garbage.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
import phonenumbers
import pycountry

__all__ = [
    "DEFAULT_RELAY_PATTERNS",
    "GOOGLE_HEADER",
    "META_HEADER",
    "PHONENUMBERS_VERSION",
    "PhoneBook",
    "RelayMatcher",
    "ads_consent_granted",
    "as_bool",
    "google_row",
    "is_missing",
    "google_fields",
    "hashed_email",
    "map_rows",
    "map_values",
    "meta_fields",
    "meta_row",
    "normalize_city_meta",
    "normalize_country",
    "normalize_email",
    "normalize_name_google",
    "normalize_name_meta",
    "normalize_phone_e164",
    "normalize_phone_meta",
    "normalize_state_meta",
    "normalize_zip_google",
    "normalize_zip_meta",
    "sha256_hex",
]

META_HEADER = ["email", "phone", "fn", "ln", "ct", "st", "zip", "country", "extern_id"]
GOOGLE_HEADER = ["Email", "Phone", "First Name", "Last Name", "Country", "Zip"]

# Marketplace relay (masked) buyer addresses. They forward to the buyer only for
# order-related mail, and the marketplaces forbid using them for marketing.
DEFAULT_RELAY_PATTERNS: tuple[str, ...] = (
    r"@marketplace\.amazon\.[a-z.]+$",  # Amazon, every marketplace TLD
    r"@relay\.walmart\.com$",  # Walmart Marketplace
    r"@members\.ebay\.[a-z.]+$",  # eBay masked buyer addresses
    r"@([a-z0-9-]+\.)*relay\.ebay\.[a-z.]+$",  # eBay relay hosts
)

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_missing(value: object) -> bool:
    """True for None, NaN/NA and blank strings."""
    if value is None:
        return True
    if type(value) is str:  # the common case first: this runs for every CSV field
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, str):
        return not value.strip()
    return value is pd.NA or value is pd.NaT


def as_bool(value: object) -> bool:
    """Strict truthiness for flags: True/1/"true"/"yes"; missing or anything else is False."""
    if is_missing(value):
        return False
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "y", "t"}
    return bool(value)


def ads_consent_granted(value: object) -> bool:
    """Ads consent as the warehouse states it ('granted' / 'denied' / 'unknown', see
    marts.dim_customers) or as a flag (True, "yes", ...); anything else is no consent."""
    if isinstance(value, str) and value.strip().lower() == "granted":
        return True
    return as_bool(value)


def _factorizable(kind) -> bool:
    return isinstance(kind, pd.StringDtype) or pd.api.types.is_integer_dtype(kind) or pd.api.types.is_bool_dtype(kind)


def map_values(values: pd.Series, func: Callable[[object], object]) -> np.ndarray:
    """``func(value)`` for every value, as an object array; ``func`` must be pure.

    Text, integer and boolean columns repeat few distinct values (a segment, a lapse in
    days), so ``func`` runs once per distinct value (missing ones included, as they are
    stored): at 1M customers this is what keeps the per-row Python of a publish off the
    rows. Other dtypes go value by value: factorize would merge values that compare equal
    but read differently (0.0 and -0.0; 1, 1.0 and True in an object column).
    """
    if _factorizable(values.dtype):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        # to_numpy: the values as a row-wise to_numpy(dtype=object) hands them over (and
        # iterating an Arrow-backed array directly costs about 0.5 us a value)
        distinct = uniques.to_numpy(dtype=object)
        return np.fromiter(map(func, distinct), dtype=object, count=len(distinct))[codes]
    return np.fromiter(map(func, values.to_numpy(dtype=object)), dtype=object, count=len(values))


def map_rows(frame: pd.DataFrame, columns: Sequence[str], func: Callable[..., object]) -> np.ndarray:
    """``func(*values)`` of the columns for every row, as an object array; ``func`` must be pure.

    Like `map_values` for one column or more: once per distinct combination when every
    column is text, integer or boolean (a state with its country), else row by row.
    """
    if len(columns) == 1:
        return map_values(frame[columns[0]], func)
    if all(_factorizable(frame[column].dtype) for column in columns):
        codes = np.zeros(len(frame), dtype=np.int64)
        distinct = []
        for column in columns:
            column_codes, uniques = pd.factorize(frame[column], use_na_sentinel=False)
            codes = codes * len(uniques) + column_codes
            distinct.append(uniques.to_numpy(dtype=object))
        combinations, inverse = np.unique(codes, return_inverse=True)
        values = []
        for code in combinations.tolist():
            parts = []
            for uniques in reversed(distinct):
                code, index = divmod(code, len(uniques))
                parts.append(uniques[index])
            values.append(func(*reversed(parts)))
        return np.fromiter(values, dtype=object, count=len(values))[inverse.reshape(-1)]
    rows = zip(*(frame[column].to_numpy(dtype=object) for column in columns), strict=True)
    return np.fromiter((func(*row) for row in rows), dtype=object, count=len(frame))


def sha256_hex(value: str | None) -> str | None:
    """SHA-256 of the UTF-8 bytes, hex lowercase; None stays None."""
    if value is None:
        return None
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class RelayMatcher:
    """Recognises marketplace relay addresses by regex on the normalised address."""

    def __init__(self, patterns: Iterable[str] = DEFAULT_RELAY_PATTERNS) -> None:
        self.patterns = tuple(patterns)
        self._regex = re.compile("|".join(f"(?:{p})" for p in self.patterns))

    def __call__(self, email: object) -> bool:
        if is_missing(email):
            return False
        return bool(self._regex.search(str(email).strip().lower()))


def normalize_email(raw: object) -> str | None:
    """Trim, lowercase, drop inner whitespace; None when it is not an address."""
    if is_missing(raw):
        return None
    email = re.sub(r"\s+", "", str(raw)).lower()
    return email if _EMAIL_RE.match(email) else None


@lru_cache(maxsize=512)
def normalize_country(raw: object) -> str | None:
    """ISO 3166-1 alpha-2 upper case (accepts alpha-2, alpha-3 and 'UK'); else None."""
    if is_missing(raw):
        return None
    code = str(raw).strip().upper()
    if code == "UK":
        code = "GB"
    if len(code) == 2:
        return code if pycountry.countries.get(alpha_2=code) else None
    if len(code) == 3:
        country = pycountry.countries.get(alpha_3=code)
        return country.alpha_2 if country else None
    return None


def _parse_phone(raw: object, country: object) -> phonenumbers.PhoneNumber | None:
    if is_missing(raw):
        return None
    text = str(raw).strip()
    region = normalize_country(country)
    if text.startswith("00"):
        # International prefix used across Europe/Asia: treat like '+'.
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


@lru_cache(maxsize=262_144)
def normalize_phone_e164(raw: object, country: object = None) -> str | None:
    """E.164 with '+', e.g. "+442070313000"; None when not a valid number."""
    number = _parse_phone(raw, country)
    if number is None:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_phone_meta(raw: object, country: object = None, *, e164=normalize_phone_e164) -> str | None:
    """Digits with country code, no '+' and no leading zeros, e.g. "442070313000"."""
    number = e164(raw, country)
    return number[1:] if number else None


PHONENUMBERS_VERSION = phonenumbers.__version__


class PhoneBook:
    """`normalize_phone_e164` with a memory: a number seen before is looked up, not parsed again.

    Parsing and validating a number is the slow part of a publish (about 17 us a number:
    5.5 s of a night at 1M customers) and the same numbers come back night after night.
    ``known`` maps (raw phone, country as given) to the answer (E.164 or None for an invalid
    number); `activation.warehouse` keeps it in the warehouse between runs and stores what a
    run ``learned``. An answer holds for the phonenumbers release that gave it
    (`PHONENUMBERS_VERSION`: its metadata decides which numbers are valid).
    """

    def __init__(self, known: dict[tuple[str, str | None], str | None] | None = None):
        self.known = dict(known or {})
        self.learned: dict[tuple[str, str | None], str | None] = {}

    @staticmethod
    def key(raw: object, country: object) -> tuple[str, str | None]:
        return str(raw), None if is_missing(country) else str(country)

    def e164(self, raw: object, country: object = None) -> str | None:
        """Same answer as ``normalize_phone_e164(raw, country)``."""
        if is_missing(raw):
            return None
        key = self.key(raw, country)
        try:
            return self.known[key]
        except KeyError:
            value = normalize_phone_e164(raw, country)
            self.known[key] = self.learned[key] = value
            return value


def _letters_only(text: str) -> str:
    # Unicode letters (L*) and combining marks (M*), so scripts that need marks survive.
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in ("L", "M"))


def normalize_name_meta(raw: object) -> str | None:
    """Meta fn/ln: NFC, lowercase, letters only (UTF-8 letters kept)."""
    if is_missing(raw):
        return None
    name = _letters_only(unicodedata.normalize("NFC", str(raw)).lower())
    return unicodedata.normalize("NFC", name) or None


def normalize_name_google(raw: object) -> str | None:
    """Google First/Last Name: NFC, trimmed, lowercase, inner whitespace collapsed."""
    if is_missing(raw):
        return None
    name = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(raw)).strip().lower())
    return name or None


def _fold_ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_city_meta(raw: object) -> str | None:
    """Meta ct: lowercase, accents folded, no punctuation, digits or spaces."""
    if is_missing(raw):
        return None
    city = _letters_only(_fold_ascii(str(raw).lower()))
    return unicodedata.normalize("NFC", city) or None


@lru_cache(maxsize=1)
def _us_state_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    for sub in pycountry.subdivisions.get(country_code="US"):
        short = sub.code.split("-", 1)[1].lower()
        codes[short] = short
        codes[re.sub(r"[^a-z]", "", _fold_ascii(sub.name.lower()))] = short
    return codes


def normalize_state_meta(raw: object, country: object = None) -> str | None:
    """Meta st: US two-letter code lowercase; elsewhere lowercase, letters/digits only."""
    if is_missing(raw):
        return None
    text = str(raw).strip().lower()
    if normalize_country(country) == "US":
        key = re.sub(r"[^a-z]", "", _fold_ascii(text))
        return _us_state_codes().get(key)
    state = "".join(ch for ch in _fold_ascii(text) if ch.isalnum())
    return state or None


def _us_zip5(text: str) -> str | None:
    digits = re.match(r"\d+", text.replace(" ", ""))
    if not digits:
        return None
    value = digits.group(0)
    if len(value) < 5:
        value = value.zfill(5)  # leading zero lost in an integer column (e.g. 02134)
    return value[:5]


def normalize_zip_meta(raw: object, country: object = None) -> str | None:
    """Meta zip: lowercase, no spaces; US first five digits."""
    if is_missing(raw):
        return None
    text = str(raw).strip().lower()
    if normalize_country(country) == "US":
        return _us_zip5(text)
    return re.sub(r"\s+", "", text) or None


def normalize_zip_google(raw: object, country: object = None) -> str | None:
    """Google Zip (unhashed): US five digits; elsewhere trimmed with spaces collapsed."""
    if is_missing(raw):
        return None
    text = str(raw).strip()
    if normalize_country(country) == "US":
        return _us_zip5(text)
    return re.sub(r"\s+", " ", text).upper() or None


Field = tuple[tuple[str, ...], Callable[..., object]]


def _usable_email(relay: RelayMatcher) -> Callable[[object], str | None]:
    def email(value: object) -> str | None:
        normalized = normalize_email(value)
        return None if normalized is None or relay(normalized) else normalized

    return email


def hashed_email(relay: RelayMatcher) -> Callable[[object], str | None]:
    """Meta email and Google Email: SHA-256 of the normalised address; None for a marketplace
    relay address or one that is not an address."""
    email = _usable_email(relay)
    return lambda v: sha256_hex(email(v))


def meta_fields(*, relay: RelayMatcher, e164=normalize_phone_e164) -> dict[str, Field]:
    """Meta customer-list columns: (input columns, function of their values) each, hashed.

    ``e164`` normalises the phone (`PhoneBook.e164` to reuse earlier answers)."""
    return {
        "email": (("email",), hashed_email(relay)),
        "phone": (("phone", "country"), lambda v, c: sha256_hex(normalize_phone_meta(v, c, e164=e164))),
        "fn": (("first_name",), lambda v: sha256_hex(normalize_name_meta(v))),
        "ln": (("last_name",), lambda v: sha256_hex(normalize_name_meta(v))),
        "ct": (("city",), lambda v: sha256_hex(normalize_city_meta(v))),
        "st": (("state", "country"), lambda v, c: sha256_hex(normalize_state_meta(v, c))),
        "zip": (("zip", "country"), lambda v, c: sha256_hex(normalize_zip_meta(v, c))),
        "country": (("country",), lambda c: sha256_hex(n.lower() if (n := normalize_country(c)) else None)),
        "extern_id": (("customer_id",), lambda v: None if is_missing(v) else str(v)),
    }


def google_fields(*, relay: RelayMatcher, e164=normalize_phone_e164) -> dict[str, Field]:
    """Google Customer Match columns, as `meta_fields`; Country and Zip unhashed."""
    return {
        "Email": (("email",), hashed_email(relay)),
        "Phone": (("phone", "country"), lambda v, c: sha256_hex(e164(v, c))),
        "First Name": (("first_name",), lambda v: sha256_hex(normalize_name_google(v))),
        "Last Name": (("last_name",), lambda v: sha256_hex(normalize_name_google(v))),
        "Country": (("country",), normalize_country),
        "Zip": (("zip", "country"), normalize_zip_google),
    }


def _row(fields: dict[str, Field], record: dict) -> dict[str, str]:
    return {key: func(*(record.get(column) for column in columns)) or "" for key, (columns, func) in fields.items()}


def meta_row(record: dict, *, relay: RelayMatcher, e164=normalize_phone_e164) -> dict[str, str]:
    """One Meta customer-list row (hashed) from a customer record; '' for missing keys."""
    return _row(meta_fields(relay=relay, e164=e164), record)


def google_row(record: dict, *, relay: RelayMatcher, e164=normalize_phone_e164) -> dict[str, str]:
    """One Google Customer Match row; Country and Zip unhashed, '' for missing keys."""
    return _row(google_fields(relay=relay, e164=e164), record)
