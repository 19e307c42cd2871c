-- F15 cohort retention matrix in long form: for each acquisition month (first order) and
-- each month since, the share of the cohort that ordered in that month. Month 0 is 100% by
-- definition; the as-of month is partial.

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

customers as {{ retention.not_materialized() }} (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

offsets as (
    {{ retention.integer_series(0, 240, 'months_since_first_order') }}
),

cohorts as (
    select
        {{ retention.month_start('first_order_date') }} as cohort_month,
        count(*) as cohort_customers
    from customers
    group by {{ retention.month_start('first_order_date') }}
),

customer_months as (
    select distinct
        orders.customer_id,
        {{ retention.month_start('customers.first_order_date') }} as cohort_month,
        {{ retention.month_start('orders.ordered_date') }} as order_month
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
),

retained as (
    select
        cohort_month,
        {{ retention.months_between_dates('cohort_month', 'order_month') }} as months_since_first_order,
        count(*) as retained_customers
    from customer_months
    group by cohort_month, {{ retention.months_between_dates('cohort_month', 'order_month') }}
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_customers,
        offsets.months_since_first_order,
        {{ retention.add_months('cohorts.cohort_month', 'offsets.months_since_first_order') }} as activity_month
    from cohorts
    cross join offsets
    cross join as_of
    where {{ retention.add_months('cohorts.cohort_month', 'offsets.months_since_first_order') }} <= as_of.as_of_date
),

final as (
    select
        cast(grid.cohort_month as {{ retention.type_text() }})
        || ':'
        || cast(grid.months_since_first_order as {{ retention.type_text() }}) as cohort_cell_id,
        grid.cohort_month,
        grid.months_since_first_order,
        grid.activity_month,
        grid.cohort_customers,
        coalesce(retained.retained_customers, 0) as retained_customers,
        round({{ retention.safe_divide('coalesce(retained.retained_customers, 0)', 'grid.cohort_customers') }}, 4)
            as retention_rate,
        grid.activity_month < {{ retention.month_start('as_of.as_of_date') }} as is_complete_month
    from grid
    cross join as_of
    left join retained
        on grid.cohort_month = retained.cohort_month
        and grid.months_since_first_order = retained.months_since_first_order
)

select * from final
