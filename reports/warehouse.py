"""Between the warehouse and the emails: alert inputs, the weekly report context, history.

Every query reads marts built by dbt, `ml.*` written by the model assets and
`activation.*` written by the publish assets. `history.customer_states` keeps one row per
customer per run (segment, risk, value) so that "newly at risk" and "segment movement"
compare against what the previous run saw.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from activation.warehouse import VALUE_TIER_SQL
from core.warehouse import read_frame, table_exists
from reports.alerts import AlertInputs
from reports.render import WeeklyReportContext

HISTORY_KEEP_DAYS = 400


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pd.DataFrame:
    return read_frame(con, sql, params)


# ---------------------------------------------------------------- history of customer states


def snapshot_customer_states(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> int:
    """Record this run's segment, risk band and value tier per customer (one set per date)."""
    con.execute("create schema if not exists history")
    con.execute(
        """
        create table if not exists history.customer_states (
            as_of date, customer_id varchar, rfm_segment varchar, risk_band varchar,
            value_tier varchar, churn_probability double, total_revenue double, is_churned boolean
        )
        """
    )
    con.execute("begin transaction")
    con.execute("delete from history.customer_states where as_of = ? or as_of < ?", [as_of, as_of - dt.timedelta(days=HISTORY_KEEP_DAYS)])
    con.execute(
        f"""
        insert into history.customer_states
        select ?, customers.customer_id, rfm.rfm_segment, scores.risk_band,
            {VALUE_TIER_SQL},
            scores.churn_probability, customers.total_revenue, segments.is_churned
        from marts.dim_customers as customers
        left join marts.customer_rfm as rfm on rfm.customer_id = customers.customer_id
        left join marts.customer_segments as segments on segments.customer_id = customers.customer_id
        left join ml.churn_scores as scores on scores.customer_id = customers.customer_id
        """,
        [as_of],
    )
    con.execute("commit")
    return con.execute("select count(*) from history.customer_states where as_of = ?", [as_of]).fetchall()[0][0]


def _previous_as_of(con: duckdb.DuckDBPyConnection, before: dt.date) -> dt.date | None:
    if not table_exists(con, "history", "customer_states"):
        return None
    rows = con.execute("select max(as_of) from history.customer_states where as_of <= ?", [before]).fetchall()
    return rows[0][0]


# ---------------------------------------------------------------- shared frames


def at_risk_high_value(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> pd.DataFrame:
    """High churn risk, top-quintile spend and not churned yet, most valuable first, with reasons and action."""
    action = "null"
    joins = ""
    if table_exists(con, "activation", "publish_history"):
        joins = """
        left join (
            select customer_id, any_value(action) as action
            from activation.publish_history
            where as_of = (select max(as_of) from activation.publish_history) and "group" = 'treated'
            group by customer_id
        ) as published on published.customer_id = customers.customer_id"""
        action = "published.action"
    reasons = " || ', ' || ".join(
        f"coalesce(scores.reason_{k}_cause || ': ' || scores.reason_{k}_detail, '')" for k in (1, 2, 3)
    )
    sql = f"""
        select customers.customer_id,
            trim(coalesce(customers.first_name, '') || ' ' || coalesce(customers.last_name, '')) as customer_name,
            customers.total_revenue::double as value,
            scores.predicted_clv_12m,
            scores.churn_probability,
            trim(regexp_replace({reasons}, '(, )+$', ''), ', ') as reasons,
            {action} as recommended_action
        from ml.churn_scores as scores
        inner join marts.dim_customers as customers on customers.customer_id = scores.customer_id
        inner join marts.customer_rfm as rfm on rfm.customer_id = scores.customer_id
        inner join marts.customer_segments as segments on segments.customer_id = scores.customer_id
        {joins}
        where scores.risk_band = 'high' and rfm.m_score >= 5 and not segments.is_churned
        order by value desc, customers.customer_id
        {f'limit {int(limit)}' if limit else ''}
    """
    return _frame(con, sql)


def segment_frequency(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return _frame(
        con,
        """
        select segment, month_start as month, orders_per_active_customer::double as orders_per_customer, active_customers
        from marts.segment_monthly_frequency
        where segment_type = 'rfm_segment' and is_complete_month
        order by segment, month
        """,
    )


# ---------------------------------------------------------------- alerts


def alert_inputs(con: duckdb.DuckDBPyConnection, as_of: dt.date, audience_paths: dict[str, str] | None = None) -> AlertInputs:
    """The frames every alert rule reads, from the marts and this run's model and loads."""
    previous = _previous_as_of(con, as_of - dt.timedelta(days=1))
    at_risk_previous = None
    if previous is not None:
        at_risk_previous = _frame(
            con,
            "select customer_id from history.customer_states "
            "where as_of = ? and risk_band = 'high' and value_tier = 'high' and not is_churned",
            [previous],
        )
    model_runs = None
    if table_exists(con, "ml", "model_runs"):
        model_runs = _frame(
            con,
            "select model_name, model_version, evaluated_at, gate_passed, gate_failures, score_psi from ml.model_runs order by evaluated_at",
        )
    source_health = _frame(
        con,
        """
        select source,
            max(loaded_at) filter (where status = 'loaded') as last_loaded_at,
            count(*) filter (where status = 'rejected' and loaded_at >= now() - interval 1 day)::int as failed_checks,
            string_agg(distinct error, '; ') filter (where status = 'rejected' and loaded_at >= now() - interval 1 day)
                as failed_check_names
        from raw._batches
        group by source
        order by source
        """,
    )
    return AlertInputs(
        segment_frequency=segment_frequency(con),
        churn_rates=_frame(
            con, "select month_start as month, churn_rate::double as churn_rate from marts.kpi_monthly where is_complete_month order by month"
        ),
        at_risk_current=at_risk_high_value(con),
        at_risk_previous=at_risk_previous,
        cohorts=_frame(
            con,
            """
            select cohort_month, cohort_customers as cohort_size, conversion_rate::double as second_order_rate,
                is_window_complete as is_complete
            from marts.cohort_second_order_conversion
            order by cohort_month
            """,
        ),
        model_runs=model_runs,
        source_health=source_health,
        audience_paths=audience_paths or {},
    )


# ---------------------------------------------------------------- weekly report


def _kpis(con: duckdb.DuckDBPyConnection, as_of: dt.date, period_days: int) -> pd.DataFrame:
    earlier = as_of - dt.timedelta(days=period_days)
    day = _frame(
        con,
        """
        select date_day, customers, active_customers, churn_rate, repeat_rate, historical_ltv
        from marts.kpi_daily where date_day in (?, ?)
        """,
        [as_of, earlier],
    ).set_index("date_day")

    def pick(column: str, when: dt.date):
        when = pd.Timestamp(when)
        matches = [i for i in day.index if pd.Timestamp(i) == when]
        return float(day.loc[matches[0], column]) if matches else None

    revenue = _frame(
        con,
        """
        select sum(order_amount) filter (where ordered_date > ? - interval (?) day and ordered_date <= ?)::double as now,
               sum(order_amount) filter (where ordered_date > ? - interval (?) day and ordered_date <= ?)::double as before
        from marts.fct_orders where not is_cancelled
        """,
        [as_of, period_days, as_of, earlier, period_days, earlier],
    ).iloc[0]
    frequency = _frame(
        con,
        "select orders_per_active_customer::double as value from marts.kpi_monthly where is_complete_month order by month_start desc limit 2",
    )["value"].tolist()
    rows = [
        ("customers", pick("customers", as_of), pick("customers", earlier)),
        ("active_customers", pick("active_customers", as_of), pick("active_customers", earlier)),
        ("churn_rate", pick("churn_rate", as_of), pick("churn_rate", earlier)),
        ("repeat_purchase_rate", pick("repeat_rate", as_of), pick("repeat_rate", earlier)),
        ("purchase_frequency", frequency[0] if frequency else None, frequency[1] if len(frequency) > 1 else None),
        ("revenue", revenue["now"], revenue["before"]),
        ("historical_ltv", pick("historical_ltv", as_of), pick("historical_ltv", earlier)),
    ]
    if table_exists(con, "ml", "churn_scores"):
        predicted = _frame(con, "select avg(predicted_clv_12m)::double as v from ml.churn_scores")
        previous = _previous_as_of(con, earlier)
        at_risk_before = None
        if previous is not None:
            at_risk_before = _frame(
                con,
                "select count(*) as n from history.customer_states "
                "where as_of = ? and risk_band = 'high' and value_tier = 'high' and not is_churned",
                [previous],
            )["n"].iloc[0]
        rows += [("predicted_ltv", predicted["v"].iloc[0], None), ("customers_at_risk", len(at_risk_high_value(con)), at_risk_before)]
    return pd.DataFrame(rows, columns=["kpi", "value", "previous_value"])


def _rfm_movement(con: duckdb.DuckDBPyConnection, as_of: dt.date, period_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    current = _frame(con, "select rfm_segment as segment, count(*) as customers from marts.customer_rfm group by 1")
    previous = _previous_as_of(con, as_of - dt.timedelta(days=period_days))
    if previous is None:
        current["previous_customers"] = None
        return current, pd.DataFrame(columns=["from_segment", "to_segment", "customers"])
    before = _frame(
        con, "select rfm_segment as segment, count(*) as previous_customers from history.customer_states where as_of = ? group by 1", [previous]
    )
    sizes = current.merge(before, on="segment", how="outer")
    transitions = _frame(
        con,
        """
        select before.rfm_segment as from_segment, now.rfm_segment as to_segment, count(*) as customers
        from history.customer_states as before
        inner join marts.customer_rfm as now on now.customer_id = before.customer_id
        where before.as_of = ? and before.rfm_segment is distinct from now.rfm_segment
        group by 1, 2 order by customers desc
        """,
        [previous],
    )
    return sizes, transitions


def weekly_context(con: duckdb.DuckDBPyConnection, as_of: dt.date, period_days: int = 7, top_rows: int = 10) -> WeeklyReportContext:
    """Everything the weekly stakeholder report shows, as of the last nightly run."""
    sizes, transitions = _rfm_movement(con, as_of, period_days)
    winback = pd.DataFrame(columns=["campaign"])
    if table_exists(con, "activation", "winback_effect"):
        winback = _frame(
            con,
            """
            select audience || ' (' || publish_date || ')' as campaign,
                treated_n as treated_customers, treated_rate as treated_conversion,
                control_n as control_customers, control_rate as control_conversion,
                lift_abs as uplift, lift_abs_ci_low as uplift_ci_low, lift_abs_ci_high as uplift_ci_high
            from activation.winback_effect order by publish_date desc, audience
            """,
        )
    baseline = _frame(con, "select max(baseline_churn_rate)::double as rate from marts.churn_by_dimension")["rate"].iloc[0]
    return WeeklyReportContext(
        period_start=as_of - dt.timedelta(days=period_days - 1),
        period_end=as_of,
        generated_at=dt.datetime.now(dt.UTC),
        kpis=_kpis(con, as_of, period_days),
        monthly_trends=_frame(
            con,
            """
            select month_start as month, churn_rate::double as churn_rate, active_customers_at_end as active_customers
            from marts.kpi_monthly where is_complete_month order by month_start desc limit 24
            """,
        ).sort_values("month"),
        segment_frequency=segment_frequency(con),
        cohort_retention=_frame(
            con,
            """
            select cohort_month, months_since_first_order as months_since_first, retention_rate::double as retention_rate
            from marts.cohort_retention
            where cohort_month >= (select max(cohort_month) from marts.cohort_retention) - interval 11 month
            order by cohort_month, months_since_first
            """,
        ),
        rfm_segments=sizes,
        rfm_transitions=transitions,
        churn_profiles=_frame(
            con,
            f"""
            select replace(profile_id, '&', ' + ') as profile, customers, churn_rate::double as churn_rate, lift::double as lift,
                lift_ci_low::double as lift_ci_low, null::double as lift_ci_high
            from marts.churn_profiles where is_significant order by profile_rank limit {int(top_rows)}
            """,
        ),
        at_risk_customers=at_risk_high_value(con, limit=top_rows),
        winback=winback,
        campaign_impact=_frame(
            con,
            f"""
            select campaign_name as campaign, exposed_customers,
                exposed_orders_per_customer_before::double as exposed_before, exposed_orders_per_customer_after::double as exposed_after,
                control_orders_per_customer_before::double as control_before, control_orders_per_customer_after::double as control_after
            from marts.campaign_impact where is_window_complete order by sent_date desc limit {int(top_rows)}
            """,
        ),
        baseline_churn_rate=None if pd.isna(baseline) else float(baseline),
    )
