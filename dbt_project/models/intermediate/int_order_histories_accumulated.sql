-- Every (not cancelled) order with the customer's running totals up to and including it,
-- and the date of the customer's next order: the base of the point-in-time ML features,
-- computed once instead of once per snapshot.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds every order of the customers with an order that is new,
-- gone (cancelled, merged away) or changed - amount, time, customer, delivery, return, the
-- category mix of its lines - (an order that moved rebuilds its old and its new customer)
-- and leaves the other customers' orders. Orders no longer in scope are deleted after the merge.

{#- built column <- its input -#}
{%- set inputs = {
    'customer_id': 'orders.customer_id',
    'ordered_at': 'orders.ordered_at',
    'order_amount': 'orders.order_amount',
    'has_discount': 'orders.has_discount',
    'platform': 'orders.platform',
    'region': 'orders.region',
    'delivery_days': 'orders.delivery_days',
    'delivered_at': 'fulfilment.delivered_at',
    'first_return_requested_at': 'fulfilment.first_return_requested_at',
    'consumable_amount': 'coalesce(line_types.consumable_amount, 0)',
    'durable_amount': 'coalesce(line_types.durable_amount, 0)',
} %}
{%- set built_columns = inputs.keys() | list %}
{%- set current_columns = inputs.values() | list %}

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

-- orders whose built row no longer matches its inputs: one hash of the inputs per order
-- against one of the built row (a narrow join instead of carrying 11 columns through it)
changed_orders as (
    select
        current_rows.customer_id as current_customer_id,
        built_rows.customer_id as built_customer_id
    from (
        select
            orders.order_id,
            orders.customer_id,
            {{ retention.row_hash(current_columns) }} as row_hash
        from orders
        left join fulfilment
            on orders.order_id = fulfilment.order_id
        left join line_types
            on orders.order_id = line_types.order_id
    ) as current_rows
    full outer join (
        select
            order_id,
            customer_id,
            {{ retention.row_hash(built_columns) }} as row_hash
        from built
    ) as built_rows
        on current_rows.order_id = built_rows.order_id
    where current_rows.order_id is null
        or built_rows.order_id is null
        or current_rows.row_hash <> built_rows.row_hash
),

-- the customers of the changed orders now and in the last build: an order that moved to
-- another customer changes the running totals of both
changed_customers as (
    select current_customer_id as customer_id
    from changed_orders
    where current_customer_id is not null

    union

    select built_customer_id
    from changed_orders
    where built_customer_id is not null
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
