-- F15 KPIs by calendar month (the as-of month is partial: is_complete_month = false):
-- customers and active customers at the start and end, churned customers and churn rate
-- (churn events in the month / active at the start), repeat rate, orders per active
-- customer, revenue, AOV and historical LTV at the end of the month.

with

daily as (
    select * from {{ ref('kpi_daily') }}
),

months_active as (
    select * from {{ ref('int_customer_months_active') }}
),

monthly as (
    select
        {{ retention.month_start('date_day') }} as month_start,
        max(date_day) as month_last_date,
        sum(new_customers) as new_customers,
        sum(churned_customers) as churned_customers,
        sum(orders) as orders,
        sum(revenue) as revenue,
        {{ retention.arg_max('customers', 'date_day') }} as customers_at_end,
        {{ retention.arg_max('active_customers', 'date_day') }} as active_customers_at_end,
        {{ retention.arg_max('repeat_rate', 'date_day') }} as repeat_rate,
        {{ retention.arg_max('historical_ltv', 'date_day') }} as historical_ltv,
        {{ retention.arg_max('cumulative_revenue', 'date_day') }} as cumulative_revenue
    from daily
    group by {{ retention.month_start('date_day') }}
),

active_in_month as (
    select
        month_start,
        count(*) as active_customers_in_month,
        sum(case when orders > 0 then 1 else 0 end) as ordering_customers
    from months_active
    group by month_start
),

final as (
    select
        monthly.month_start,
        monthly.month_last_date,
        monthly.month_last_date = {{ retention.add_days(retention.add_months('monthly.month_start', 1), -1) }}
            as is_complete_month,
        monthly.new_customers,
        coalesce(lag(monthly.customers_at_end) over (order by monthly.month_start), 0) as customers_at_start,
        monthly.customers_at_end,
        -- active at the start: active on the last day of the month before
        coalesce(lag(monthly.active_customers_at_end) over (order by monthly.month_start), 0) as active_customers_at_start,
        monthly.active_customers_at_end,
        coalesce(active_in_month.active_customers_in_month, 0) as active_customers_in_month,
        coalesce(active_in_month.ordering_customers, 0) as ordering_customers,
        monthly.churned_customers,
        round(
            {{ retention.safe_divide(
                'monthly.churned_customers', 'lag(monthly.active_customers_at_end) over (order by monthly.month_start)'
            ) }},
            4
        ) as churn_rate,
        monthly.repeat_rate,
        monthly.orders,
        round({{ retention.safe_divide('monthly.orders', 'active_in_month.active_customers_in_month') }}, 4)
            as orders_per_active_customer,
        cast(monthly.revenue as decimal(18, 2)) as revenue,
        cast({{ retention.safe_divide('monthly.revenue', 'monthly.orders') }} as decimal(18, 2)) as average_order_value,
        monthly.cumulative_revenue,
        monthly.historical_ltv
    from monthly
    left join active_in_month
        on monthly.month_start = active_in_month.month_start
)

select * from final
