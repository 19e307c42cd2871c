-- Point in time: a snapshot's order counts only include orders placed by the end of the
-- snapshot date, no web session counted for a snapshot starts after it, and the scoring
-- snapshot agrees with the current customer profile.
with

features as (
    select * from {{ ref('ml_customer_features') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

recounted as (
    select
        features.customer_snapshot_id,
        features.frequency,
        count(orders.order_id) as orders_by_snapshot
    from features
    left join orders
        on features.customer_id = orders.customer_id
        and features.snapshot_date >= orders.ordered_date
    group by features.customer_snapshot_id, features.frequency
),

wrong_counts as (
    select customer_snapshot_id
    from recounted
    where frequency <> orders_by_snapshot
),

impossible as (
    select customer_snapshot_id
    from features
    where recency_days < 0
        or recency_days > tenure_days
        or frequency_btyd < 0
        or recency_btyd > t_btyd
        or days_since_last_web_session < 0
        or web_sessions_last_30d > web_sessions_last_90d
),

scoring_mismatch as (
    select features.customer_snapshot_id
    from features
    inner join {{ ref('dim_customers') }} as customers
        on features.customer_id = customers.customer_id
    where features.is_scoring_snapshot
        and (features.frequency <> customers.order_count or features.recency_days <> customers.days_since_last_order)
)

select customer_snapshot_id from wrong_counts
union all
select customer_snapshot_id from impossible
union all
select customer_snapshot_id from scoring_mismatch
