-- F11 interval metrics, one row per customer: days between purchase days (orders on the same
-- day count once), the current gap since the last purchase, how it compares with the
-- customer's average, and when the next order is due.

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

customers as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

purchase_days as (
    select distinct
        customer_id,
        ordered_date
    from orders
),

intervals as (
    select
        customer_id,
        ordered_date,
        {{ retention.days_between(
            'lag(ordered_date) over (partition by customer_id order by ordered_date)', 'ordered_date'
        ) }} as interval_days,
        row_number() over (partition by customer_id order by ordered_date desc) as recency_rank
    from purchase_days
),

interval_stats as (
    select
        customer_id,
        count(interval_days) as interval_count,
        avg(interval_days) as mean_interval_days,
        {{ retention.median('interval_days') }} as median_interval_days,
        stddev_samp(interval_days) as stddev_interval_days,
        min(interval_days) as min_interval_days,
        max(interval_days) as max_interval_days,
        max(case when recency_rank = 1 then interval_days end) as last_interval_days
    from intervals
    group by customer_id
),

final as (
    select
        customers.customer_id,
        customers.order_count,
        customers.purchase_day_count,
        customers.first_order_date,
        customers.last_order_date,
        coalesce(interval_stats.interval_count, 0) as interval_count,
        round(interval_stats.mean_interval_days, 2) as mean_interval_days,
        round(interval_stats.median_interval_days, 2) as median_interval_days,
        round(interval_stats.stddev_interval_days, 2) as stddev_interval_days,
        interval_stats.min_interval_days,
        interval_stats.max_interval_days,
        interval_stats.last_interval_days,
        customers.days_since_last_order as current_gap_days,
        round({{ retention.safe_divide('customers.days_since_last_order', 'interval_stats.mean_interval_days') }}, 3)
            as gap_ratio,
        case
            when interval_stats.mean_interval_days is not null
                then {{ retention.add_days('customers.last_order_date', 'round(interval_stats.mean_interval_days)') }}
        end as expected_next_order_date,
        case
            when interval_stats.mean_interval_days is not null
                then {{ retention.add_days('customers.last_order_date', 'round(interval_stats.mean_interval_days)') }}
                    < as_of.as_of_date
            else false
        end as is_overdue,
        -- needs an average of at least two intervals to call the current gap "long"
        coalesce(
            interval_stats.interval_count >= 2
            and interval_stats.mean_interval_days > 0
            and customers.days_since_last_order >= {{ var('frequency_decline_ratio') }} * interval_stats.mean_interval_days,
            false
        ) as is_frequency_declining
    from customers
    cross join as_of
    left join interval_stats
        on customers.customer_id = interval_stats.customer_id
)

select * from final
