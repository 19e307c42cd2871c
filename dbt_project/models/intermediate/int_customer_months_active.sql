-- One row per customer and calendar month in which the customer was active on at least one
-- day (an activity spell overlaps the month), up to the as-of month, with the orders of the
-- month and the orders before it. The base of the monthly frequency series.

with

spells as {{ retention.not_materialized() }} (
    select * from {{ ref('int_customer_activity_spells') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

month_numbers as (
    {{ retention.integer_series(0, 240, 'month_offset') }}
),

first_month as (
    select min({{ retention.month_start('spell_start_date') }}) as first_month_start
    from spells
),

months as (
    select {{ retention.add_months('first_month.first_month_start', 'month_numbers.month_offset') }} as month_start
    from month_numbers
    cross join first_month
    cross join as_of
    where {{ retention.add_months('first_month.first_month_start', 'month_numbers.month_offset') }} <= as_of.as_of_date
),

spell_months as (
    select distinct
        spells.customer_id,
        months.month_start
    from spells
    cross join as_of
    inner join months
        on months.month_start >= {{ retention.month_start('spells.spell_start_date') }}
        and months.month_start <= least(spells.spell_end_date, as_of.as_of_date)
),

monthly_orders as (
    select
        customer_id,
        {{ retention.month_start('ordered_date') }} as month_start,
        count(*) as orders,
        sum(order_amount) as revenue
    from orders
    group by customer_id, {{ retention.month_start('ordered_date') }}
),

joined as (
    select
        spell_months.customer_id,
        spell_months.month_start,
        coalesce(monthly_orders.orders, 0) as orders,
        coalesce(monthly_orders.revenue, 0) as revenue
    from spell_months
    left join monthly_orders
        on spell_months.customer_id = monthly_orders.customer_id
        and spell_months.month_start = monthly_orders.month_start
),

final as (
    select
        customer_id || ':' || cast(month_start as {{ retention.type_text() }}) as customer_month_id,
        customer_id,
        month_start,
        orders,
        revenue,
        coalesce(
            sum(orders) over (
                partition by customer_id order by month_start rows between unbounded preceding and 1 preceding
            ),
            0
        ) as orders_before_month
    from joined
)

select * from final
