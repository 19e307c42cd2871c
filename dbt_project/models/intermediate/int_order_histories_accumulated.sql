-- Every (not cancelled) order with the customer's running totals up to and including it,
-- and the date of the customer's next order: the base of the point-in-time ML features,
-- computed once instead of once per snapshot.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds every order of the customers with an order that is new,
-- gone (cancelled, merged away) or changed - amount, time, customer, delivery, return, the
-- category mix of its lines - and leaves the other customers' orders. Orders no longer in
-- scope are deleted after the merge.

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='order_id',
    post_hook="{{ retention.delete_keys_missing_from(this, 'order_id', ref('fct_orders'), 'not is_cancelled') }}",
) }}

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

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

changed_customers as (
    select coalesce(orders.customer_id, built.customer_id) as customer_id
    from orders
    full outer join built
        on orders.order_id = built.order_id
    left join fulfilment
        on orders.order_id = fulfilment.order_id
    left join line_types
        on orders.order_id = line_types.order_id
    where orders.order_id is null
        or built.order_id is null
        or orders.customer_id is distinct from built.customer_id
        or orders.ordered_at is distinct from built.ordered_at
        or orders.order_amount is distinct from built.order_amount
        or orders.has_discount is distinct from built.has_discount
        or orders.platform is distinct from built.platform
        or orders.region is distinct from built.region
        or orders.delivery_days is distinct from built.delivery_days
        or fulfilment.delivered_at is distinct from built.delivered_at
        or fulfilment.first_return_requested_at is distinct from built.first_return_requested_at
        or coalesce(line_types.consumable_amount, 0) is distinct from built.consumable_amount
        or coalesce(line_types.durable_amount, 0) is distinct from built.durable_amount
),

{% endif -%}
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
    {%- if is_incremental() %}
    where orders.customer_id in (select customer_id from changed_customers)
    {%- endif %}
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
