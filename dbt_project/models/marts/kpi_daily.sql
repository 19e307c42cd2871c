-- F15 KPIs by day from the first order to the as-of date: customers acquired so far, active
-- customers (inside an activity spell, see int_customer_activity_spells), churn events and
-- rate, repeat-purchase rate, orders, revenue and historical LTV (revenue to date per
-- customer to date). Predicted LTV comes from the ML scores, not from here.

with

orders as {{ retention.not_materialized() }} (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

spells as {{ retention.not_materialized() }} (
    select * from {{ ref('int_customer_activity_spells') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

bounds as (
    select
        min(orders.ordered_date) as first_date,
        max(as_of.as_of_date) as last_date
    from orders
    cross join as_of
),

days as (
    {{ retention.date_series('(select first_date from bounds)', '(select last_date from bounds)', 'date_day') }}
),

daily_orders as (
    select
        ordered_date as date_day,
        count(*) as orders,
        sum(order_amount) as revenue,
        count(distinct customer_id) as ordering_customers,
        sum(case when customer_order_number = 1 then 1 else 0 end) as new_customers,
        sum(case when customer_order_number = 2 then 1 else 0 end) as new_repeat_customers
    from orders
    group by ordered_date
),

spell_events as (
    select
        spell_start_date as date_day,
        1 as active_change,
        0 as churn_events
    from spells
    union all
    select
        {{ retention.add_days('spell_end_date', 1) }} as date_day,
        -1 as active_change,
        1 as churn_events
    from spells
    where has_churned
),

daily_spells as (
    select
        date_day,
        sum(active_change) as active_change,
        sum(churn_events) as churned_customers
    from spell_events
    group by date_day
),

joined as (
    select
        days.date_day,
        coalesce(daily_orders.orders, 0) as orders,
        coalesce(daily_orders.revenue, 0) as revenue,
        coalesce(daily_orders.ordering_customers, 0) as ordering_customers,
        coalesce(daily_orders.new_customers, 0) as new_customers,
        coalesce(daily_orders.new_repeat_customers, 0) as new_repeat_customers,
        coalesce(daily_spells.active_change, 0) as active_change,
        coalesce(daily_spells.churned_customers, 0) as churned_customers
    from days
    left join daily_orders
        on days.date_day = daily_orders.date_day
    left join daily_spells
        on days.date_day = daily_spells.date_day
),

cumulated as (
    select
        *,
        sum(new_customers) over (order by date_day rows between unbounded preceding and current row) as customers,
        sum(new_repeat_customers) over (order by date_day rows between unbounded preceding and current row)
            as repeat_customers,
        sum(active_change) over (order by date_day rows between unbounded preceding and current row) as active_customers,
        sum(revenue) over (order by date_day rows between unbounded preceding and current row) as cumulative_revenue
    from joined
),

final as (
    select
        date_day,
        new_customers,
        customers,
        active_customers,
        customers - active_customers as inactive_customers,
        churned_customers,
        round({{ retention.safe_divide('churned_customers', 'lag(active_customers) over (order by date_day)') }}, 6)
            as churn_rate,
        repeat_customers,
        round({{ retention.safe_divide('repeat_customers', 'customers') }}, 4) as repeat_rate,
        ordering_customers,
        orders,
        cast(revenue as decimal(18, 2)) as revenue,
        cast(cumulative_revenue as decimal(18, 2)) as cumulative_revenue,
        cast({{ retention.safe_divide('cumulative_revenue', 'customers') }} as decimal(18, 2)) as historical_ltv
    from cumulated
)

select * from final
