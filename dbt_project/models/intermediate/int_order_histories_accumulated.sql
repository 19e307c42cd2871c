-- Every (not cancelled) order with the customer's running totals up to and including it,
-- and the date of the customer's next order: the base of the point-in-time ML features,
-- computed once instead of once per snapshot.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds every order of the customers with an order that is new,
-- gone (cancelled, merged away) or changed - amount, time, customer, delivery, return, the
-- category mix of its lines - (an order that moved rebuilds its old and its new customer)
-- and leaves the other customers' orders. fct_orders and fct_order_lines say which orders
-- and lines they wrote since this table's last build (built_at); only the delivery and
-- first return times are compared with the built rows. Orders no longer in scope are
-- deleted after the merge.

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

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

changed_orders as (
    -- orders fct_orders wrote since this table's last build: new, changed, cancelled or
    -- moved to another customer (fct_orders rewrites every order of such a customer)
    select order_id
    from {{ ref('fct_orders') }}
    where {{ retention.arrived_since_last_build('built_at', watermark='built_at') }}

    union

    -- orders whose lines fct_order_lines wrote since (the category mix)
    select order_id
    from {{ ref('fct_order_lines') }}
    where {{ retention.arrived_since_last_build('built_at', watermark='built_at') }}

    union

    -- built orders whose delivery or first return time changed (fct_orders keeps no return time)
    select built.order_id
    from built
    left join fulfilment
        on built.order_id = fulfilment.order_id
    where built.delivered_at is distinct from fulfilment.delivered_at
        or built.first_return_requested_at is distinct from fulfilment.first_return_requested_at
),

-- the customers of the changed orders now and in the last build: an order that moved to
-- another customer changes the running totals of both
changed_customers as (
    select fct.customer_id
    from changed_orders
    inner join {{ ref('fct_orders') }} as fct
        on changed_orders.order_id = fct.order_id

    union

    select built.customer_id
    from changed_orders
    inner join built
        on changed_orders.order_id = built.order_id
),

{% endif -%}
line_types as (
    select
        order_id,
        sum(case when category_type = 'consumable' then line_amount else 0 end) as consumable_amount,
        sum(case when category_type = 'durable' then line_amount else 0 end) as durable_amount
    from order_lines
    {%- if is_incremental() %}
    where customer_id in (select customer_id from changed_customers)
    {%- endif %}
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
        ) as first_day_amount,
        {{ retention.build_started_at() }} as built_at
    from order_base
)

select * from final
