-- Activity spells: a customer is active from an order until the churn threshold passes
-- without another order (the customer's base threshold: the category override for the
-- dominant category type, else the global threshold; the personal interval rule is not
-- applied to history). Consecutive orders closer than the threshold form one spell.
-- The KPI time series count active customers and churn events from these spells.

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
    select
        orders.customer_id,
        orders.ordered_date,
        count(*) as orders,
        sum(orders.order_amount) as revenue,
        max({{ retention.base_churn_threshold_sql('customers.dominant_category_type') }}) as threshold_days
    from orders
    inner join customers
        on orders.customer_id = customers.customer_id
    group by orders.customer_id, orders.ordered_date
),

flagged as (
    select
        *,
        case
            when lag(ordered_date) over (partition by customer_id order by ordered_date) is null then 1
            when {{ retention.days_between(
                'lag(ordered_date) over (partition by customer_id order by ordered_date)', 'ordered_date'
            ) }} > threshold_days then 1
            else 0
        end as starts_spell
    from purchase_days
),

numbered as (
    select
        *,
        sum(starts_spell) over (
            partition by customer_id order by ordered_date rows between unbounded preceding and current row
        ) as spell_number
    from flagged
),

spells as (
    select
        customer_id,
        spell_number,
        min(ordered_date) as spell_start_date,
        max(ordered_date) as last_order_date,
        max(threshold_days) as threshold_days,
        sum(orders) as orders,
        sum(revenue) as revenue
    from numbered
    group by customer_id, spell_number
),

final as (
    select
        spells.customer_id || ':' || cast(spells.spell_number as {{ retention.type_text() }}) as spell_id,
        spells.customer_id,
        spells.spell_number,
        spells.spell_start_date,
        spells.last_order_date,
        -- last day the customer counts as active; churned from the day after
        {{ retention.add_days('spells.last_order_date', 'spells.threshold_days') }} as spell_end_date,
        {{ retention.add_days('spells.last_order_date', 'spells.threshold_days') }} < as_of.as_of_date as has_churned,
        spells.threshold_days,
        spells.orders,
        spells.revenue
    from spells
    cross join as_of
)

select * from final
