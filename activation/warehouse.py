"""Between the warehouse and `publish`: who is scored, what was published, what it achieved.

Reads the marts and `ml.churn_scores` into the input `publish` expects, and keeps the
publish history (`activation.publish_history`) and the win-back results
(`activation.winback_effect`) in the warehouse so reports and analysts can use them.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pyarrow as pa

from activation.audiences import reason_column_names
from activation.config import ActivationConfig
from activation.control import winback_effect
from activation.exports import PublishResult, publish, read_previous_members
from activation.normalize import PHONENUMBERS_VERSION, PhoneBook
from core.warehouse import read_frame

# Phone numbers normalised on earlier runs (`PhoneBook`). The leading underscore keeps the
# table out of the Parquet exports: it holds phone numbers in clear text.
PHONE_BOOK_TABLE = "activation._phone_book"

# value tier from the RFM monetary quintile: 5 = top 20% of spend (one rule for audiences and reports)
VALUE_TIER_SQL = "case when rfm.m_score >= 5 then 'high' when rfm.m_score >= 3 then 'mid' else 'low' end"

# scored customers with their marts (one row each)
SCORED_FROM_SQL = """
from marts.dim_customers as customers
inner join ml.churn_scores as scores on scores.customer_id = customers.customer_id
left join marts.customer_rfm as rfm on rfm.customer_id = customers.customer_id
left join marts.customer_segments as segments on segments.customer_id = customers.customer_id
left join marts.customer_purchase_intervals as intervals on intervals.customer_id = customers.customer_id
"""

# what the audience rules read (`AudienceDefinition.select`)
RULE_COLUMNS_SQL = f"""
    customers.customer_id,
    rfm.rfm_segment as segment,
    segments.lifecycle_stage,
    scores.risk_band,
    {VALUE_TIER_SQL} as value_tier,
    customers.days_since_last_order,
    coalesce(intervals.is_frequency_declining, false) as is_frequency_declining,
    customers.order_count as orders
"""

SCORED_CUSTOMERS_SQL = """
select
    {rule_columns},
    customers.email,
    customers.phone,
    customers.first_name,
    customers.last_name,
    customers.city,
    customers.state,
    customers.zip,
    customers.country_code as country,
    scores.churn_probability,
    scores.predicted_clv_12m,
    customers.favourite_category,
    {reason_columns},
    customers.email_consent,
    'unknown' as sms_consent,
    customers.ads_consent,
    customers.is_opted_out
{scored_from}
{where}
order by customers.customer_id
"""


def scored_customers(con: duckdb.DuckDBPyConnection, only: pd.Series | None = None) -> pd.DataFrame:
    """One row per scored customer with contacts, consent, segment, risk and up to three
    reasons as flat columns (reason_k, reason_k_cause, reason_k_detail; `publish` makes lists).

    ``only``: the customer ids to read (all scored customers when None)."""
    reason_columns = ", ".join(f"scores.{name} as {name}" for name in reason_column_names())
    where = "" if only is None else "where customers.customer_id in (select customer_id from _only_customers)"
    sql = SCORED_CUSTOMERS_SQL.format(
        rule_columns=RULE_COLUMNS_SQL.strip(), reason_columns=reason_columns, scored_from=SCORED_FROM_SQL, where=where
    )
    if only is None:
        return read_frame(con, sql)
    con.register("_only_customers", pa.table({"customer_id": pa.array(only.astype(str).tolist(), pa.string())}))
    try:
        return read_frame(con, sql)
    finally:
        con.unregister("_only_customers")


def audience_candidates(con: duckdb.DuckDBPyConnection, config: ActivationConfig) -> tuple[pd.Series, int]:
    """The ids of the scored customers some audience selects, and how many are scored.

    Read from the rule columns alone, so that contacts, names and reason texts are read only
    for these customers: at 1M customers about a fifth are selected, and reading every
    customer's wide row took 2.3 s of a publish."""
    rules = read_frame(con, f"select {RULE_COLUMNS_SQL} {SCORED_FROM_SQL}")
    selected = pd.Series(False, index=rules.index)
    for definition in config.audiences:
        selected |= definition.select(rules)
    return rules.loc[selected, "customer_id"], len(rules)


def record_publish(con: duckdb.DuckDBPyConnection, result: PublishResult) -> int:
    """Keep who was in which audience, with which action, treated or control (one set per date)."""
    membership = result.membership.copy()
    con.execute("create schema if not exists activation")
    con.execute(
        """
        create table if not exists activation.publish_history (
            customer_id varchar, audience varchar, action varchar, action_detail varchar, action_reason varchar,
            "group" varchar, as_of date, export_dir varchar, model_version varchar, recorded_at timestamptz
        )
        """
    )
    if membership.empty:
        return 0
    membership["as_of"] = pd.to_datetime(membership["as_of"]).dt.date
    membership["export_dir"] = str(result.export_dir)
    membership["model_version"] = result.manifest.get("model_version")
    membership["recorded_at"] = dt.datetime.now(dt.UTC)
    columns = ["customer_id", "audience", "action", "action_detail", "action_reason", "group", "as_of", "export_dir", "model_version", "recorded_at"]
    membership = membership[columns]
    con.execute("begin transaction")
    con.execute("delete from activation.publish_history where as_of = ?", [membership["as_of"].iloc[0]])
    con.execute("insert into activation.publish_history select * from membership")
    con.execute("commit")
    return len(membership)


def load_phone_book(con: duckdb.DuckDBPyConnection) -> PhoneBook:
    """The phone numbers earlier runs normalised with this phonenumbers release."""
    con.execute("create schema if not exists activation")
    con.execute(
        f"create table if not exists {PHONE_BOOK_TABLE} "
        "(phone varchar, country varchar, phone_e164 varchar, phonenumbers_version varchar)"
    )
    rows = con.execute(
        f"select phone, country, phone_e164 from {PHONE_BOOK_TABLE} where phonenumbers_version = ?", [PHONENUMBERS_VERSION]
    ).fetchall()
    return PhoneBook({(phone, country): e164 for phone, country, e164 in rows})


def save_phone_book(con: duckdb.DuckDBPyConnection, phones: PhoneBook) -> int:
    """Add what this run learned; answers of other phonenumbers releases are dropped."""
    learned = pd.DataFrame(
        [(phone, country, e164) for (phone, country), e164 in phones.learned.items()],
        columns=["phone", "country", "phone_e164"],
        dtype=object,
    )
    con.execute("begin transaction")
    con.execute(f"delete from {PHONE_BOOK_TABLE} where phonenumbers_version <> ?", [PHONENUMBERS_VERSION])
    if len(learned):
        con.execute(
            f"insert into {PHONE_BOOK_TABLE} select phone, country, phone_e164, ? from learned", [PHONENUMBERS_VERSION]
        )
    con.execute("commit")
    phones.learned.clear()
    return len(learned)


def publish_audiences(
    con: duckdb.DuckDBPyConnection,
    out_root,
    as_of: dt.date,
    config: ActivationConfig,
    model_version: str,
) -> PublishResult:
    """Select, suppress and write every audience for `as_of`, then record the publish."""
    candidates, scored_count = audience_candidates(con, config)
    scored = scored_customers(con, only=candidates)
    previous = read_previous_members(out_root, as_of)
    phones = load_phone_book(con)
    result = publish(
        scored, as_of, out_root, config, model_version=model_version, previous_members=previous, phones=phones,
        customers_scored=scored_count,
    )
    record_publish(con, result)
    save_phone_book(con, phones)
    return result


def update_winback_effect(con: duckdb.DuckDBPyConnection, as_of: dt.date, window_days: int = 30) -> pd.DataFrame:
    """Win-back conversion of treated vs control for every publish whose window has closed."""
    history = read_frame(con, "select * from activation.publish_history")
    orders = read_frame(con, "select customer_id, ordered_at, order_amount as amount_usd from marts.fct_orders where not is_cancelled")
    effect = winback_effect(history, orders, window_days=window_days, as_of=as_of)
    con.execute("create schema if not exists activation")
    con.execute("create or replace table activation.winback_effect as select * from effect")
    return effect
