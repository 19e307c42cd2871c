-- One row per order up to the as-of date, on every platform, with the resolved customer,
-- money in the reporting currency, delivery, return and complaint facts, and the order's
-- place in the customer's history (cancelled orders are kept but not counted).
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds every order of the customers with an order whose row
-- would change - a new or updated order, a rate correction, a new order line, a delivery,
-- return or ticket (or a delivery that the as-of date has now reached), an identity merge
-- that moved the order to another customer, changed delivery settings - and of the
-- customers those orders belonged to before, so that each customer's order sequence is
-- rebuilt whole. Every other order is left as it is.

-- depends_on: {{ ref('int_order_lines_unioned') }}
-- depends_on: {{ ref('stg_catalog__products') }}

{%- set fulfilment_columns = ['shipped_at', 'delivered_at', 'carrier'] %}
{#- column <- expression over int_order_fulfilment_aggregated -#}
{%- set fulfilment_facts = {
    'is_returned': 'coalesce(fulfilment.return_count, 0) > 0',
    'return_reason': 'fulfilment.first_return_reason',
    'ticket_count': 'coalesce(fulfilment.ticket_count, 0)',
    'has_complaint': 'coalesce(fulfilment.complaint_count, 0) > 0',
    'has_open_complaint': 'coalesce(fulfilment.open_complaint_count, 0) > 0',
} %}
{#- what a built row's customer and fulfilment facts were made from: the inputs now
    (current_columns) and the built columns (the order columns come from int_orders_converted,
    whose built_at tells which orders it wrote since) -#}
{%- set current_columns = ['identities.customer_id'] %}
{%- set built_columns = ['built.customer_id'] %}
{%- for column in fulfilment_columns %}
    {%- do current_columns.append('fulfilment.' ~ column) %}
    {%- do built_columns.append('built.' ~ column) %}
{%- endfor %}
{%- for column, expression in fulfilment_facts.items() %}
    {%- do current_columns.append(expression) %}
    {%- do built_columns.append('built.' ~ column) %}
{%- endfor %}

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='order_id',
) }}

with

orders as (
    select * from {{ ref('int_orders_converted') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_converted') }}
),

identities as (
    select * from {{ ref('int_customer_identities_resolved') }}
),

fulfilment as (
    select * from {{ ref('int_order_fulfilment_aggregated') }}
),

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

changed_orders as (
    -- orders int_orders_converted wrote since this table's last build: new orders, new
    -- versions of orders, new FX rates (every order column comes from there)
    select orders.order_id
    from orders
    where {{ retention.arrived_since_last_build('orders.built_at', watermark='built_at') }}

    union

    -- built orders whose customer (an identity merge) or delivery, return and ticket facts
    -- differ from what the inputs now say, or whose delivery settings changed; a hash of
    -- each side instead of comparing eleven columns one by one
    select built.order_id
    from built
    left join identities
        on built.account_id = identities.account_id
    left join fulfilment
        on built.order_id = fulfilment.order_id
    where {{ retention.row_hash(current_columns) }} <> {{ retention.row_hash(built_columns) }}
        or built.is_long_delivery is distinct from built.delivery_days > {{ var('long_delivery_days') }}
        or built.delivery_time_bucket is distinct from {{ retention.delivery_time_bucket('built.delivery_days') }}

    union

    -- order lines loaded since the last build (lines are only ever added or replaced)
    select order_lines.order_id
    from {{ ref('int_order_lines_unioned') }} as order_lines
    where order_lines.loaded_at > coalesce((select max(loaded_at) from built), cast('1900-01-01' as timestamp))

    union

    -- a product moved to another category in the catalogue
    select built.order_id
    from built
    left join products
        on built.primary_sku = products.sku
    where built.primary_sku is not null
        and (built.primary_category is distinct from products.category
            or built.primary_category_type is distinct from products.category_type)
),

-- the customers of the changed orders, now and in the last build
changed_customers as (
    select identities.customer_id
    from changed_orders
    inner join orders
        on changed_orders.order_id = orders.order_id
    inner join identities
        on orders.account_id = identities.account_id

    union

    select built.customer_id
    from changed_orders
    inner join built
        on changed_orders.order_id = built.order_id
),

-- the accounts whose orders are rebuilt
changed_accounts as (
    select identities.account_id
    from identities
    inner join changed_customers
        on identities.customer_id = changed_customers.customer_id
),

{% endif -%}

line_facts as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        -- the order's main product: its most valuable line (of equal lines, the last SKU in sort order)
        {{ retention.arg_max('sku', 'line_amount', "coalesce(sku, '')") }} as primary_sku,
        {{ retention.arg_max('category', 'line_amount', "coalesce(sku, '')") }} as primary_category,
        {{ retention.arg_max('category_type', 'line_amount', "coalesce(sku, '')") }} as primary_category_type
    from order_lines
    {%- if is_incremental() %}
    where order_lines.account_id in (select account_id from changed_accounts)
    {%- endif %}
    group by order_id
),

joined as (
    select
        orders.order_id,
        orders.platform,
        orders.platform_order_id,
        identities.customer_id,
        orders.account_id,
        orders.ordered_at,
        orders.ordered_date,
        orders.currency,
        orders.order_amount_local,
        orders.fx_rate,
        orders.order_amount,
        orders.discount_amount,
        orders.shipping_amount,
        orders.has_discount,
        orders.discount_code,
        orders.is_cancelled,
        orders.has_refund,
        orders.country_code,
        orders.region,
        coalesce(line_facts.line_count, 0) as line_count,
        coalesce(line_facts.item_count, 0) as item_count,
        line_facts.primary_sku,
        line_facts.primary_category,
        line_facts.primary_category_type,
        fulfilment.shipped_at,
        fulfilment.delivered_at,
        fulfilment.carrier,
        -- whole days from order to delivery (floor), like the carriers' "delivered in N days"
        cast(floor({{ retention.fractional_days_between('orders.ordered_at', 'fulfilment.delivered_at') }}) as integer)
            as delivery_days,
        {%- for column, expression in fulfilment_facts.items() %}
        {{ expression }} as {{ column }},
        {%- endfor %}
        orders.loaded_at
    from orders
    inner join identities
        on orders.account_id = identities.account_id
    left join line_facts
        on orders.order_id = line_facts.order_id
    left join fulfilment
        on orders.order_id = fulfilment.order_id
    {%- if is_incremental() %}
    where orders.account_id in (select account_id from changed_accounts)
    {%- endif %}
),

sequenced as (
    select
        *,
        case
            when not is_cancelled
                then row_number() over (partition by customer_id, is_cancelled order by ordered_at, order_id)
        end as customer_order_number,
        case
            when not is_cancelled
                then lag(ordered_at) over (partition by customer_id, is_cancelled order by ordered_at, order_id)
        end as previous_ordered_at
    from joined
),

final as (
    select
        order_id,
        platform,
        platform_order_id,
        customer_id,
        account_id,
        ordered_at,
        ordered_date,
        currency,
        order_amount_local,
        fx_rate,
        order_amount,
        discount_amount,
        shipping_amount,
        has_discount,
        discount_code,
        is_cancelled,
        has_refund,
        country_code,
        region,
        line_count,
        item_count,
        primary_sku,
        primary_category,
        primary_category_type,
        shipped_at,
        delivered_at,
        carrier,
        delivery_days,
        delivery_days > {{ var('long_delivery_days') }} as is_long_delivery,
        {{ retention.delivery_time_bucket('delivery_days') }} as delivery_time_bucket,
        is_returned,
        return_reason,
        ticket_count,
        has_complaint,
        has_open_complaint,
        customer_order_number,
        customer_order_number = 1 as is_first_order,
        previous_ordered_at,
        {{ retention.days_between('previous_ordered_at', 'ordered_at') }} as days_since_previous_order,
        loaded_at,
        {{ retention.build_started_at() }} as built_at
    from sequenced
)

select * from final
