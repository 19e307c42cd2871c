-- Every (not cancelled) order with the customer's running totals up to and including it,
-- and the date of the customer's next order: the base of the point-in-time ML features,
-- computed once instead of once per snapshot.

with

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_lines as (
    select * from {{ ref('fct_order_lines') }}
    where not is_cancelled
),

fulfilment as (
    select * from {{ ref('int_order_fulfilment_aggregated') }}
),

line_types as (
    select
        order_id,
        sum(case when category_type = 'consumable' then line_amount else 0 end) as consumable_amount,
        sum(case when category_type = 'durable' then line_amount else 0 end) as durable_amount
    from order_lines
    group by order_id
),

order_base as (
    select
        orders.customer_id,
        orders.order_id,
        orders.ordered_at,
        orders.ordered_date,
        orders.order_amount,
        orders.has_discount,
        orders.platform,
        orders.region,
        orders.delivery_days,
        fulfilment.delivered_at,
        fulfilment.first_return_requested_at,
        coalesce(line_types.consumable_amount, 0) as consumable_amount,
        coalesce(line_types.durable_amount, 0) as durable_amount,
        min(orders.ordered_date) over (partition by orders.customer_id) as first_order_date,
        lag(orders.ordered_date) over (
            partition by orders.customer_id order by orders.ordered_at, orders.order_id
        ) as previous_ordered_date,
        lead(orders.ordered_date) over (
            partition by orders.customer_id order by orders.ordered_at, orders.order_id
        ) as next_ordered_date
    from orders
    left join fulfilment
        on orders.order_id = fulfilment.order_id
    left join line_types
        on orders.order_id = line_types.order_id
),

final as (
    -- every order with the customer's running totals up to and including it, computed once
    select
        *,
        sum(1) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_orders,
        sum(order_amount) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_revenue,
        sum(case when has_discount then 1 else 0 end) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_discounted_orders,
        -- a new purchase day unless the previous order was on the same date
        sum(case when previous_ordered_date = ordered_date then 0 else 1 end) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_purchase_days,
        sum(consumable_amount) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_consumable_amount,
        sum(durable_amount) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as running_durable_amount,
        {%- for platform in retention.platforms() %}
        max(case when platform = '{{ platform }}' then 1 else 0 end) over (
            partition by customer_id order by ordered_at, order_id rows between unbounded preceding and current row
        ) as uses_{{ platform }},
        {%- endfor %}
        sum(case when ordered_date = first_order_date then order_amount else 0 end) over (
            partition by customer_id
        ) as first_day_amount
    from order_base
)

select * from final
