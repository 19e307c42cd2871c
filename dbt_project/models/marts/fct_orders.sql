-- One row per order up to the as-of date, on every platform, with the resolved customer,
-- money in the reporting currency, delivery, return and complaint facts, and the order's
-- place in the customer's history (cancelled orders are kept but not counted).

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
        coalesce(fulfilment.return_count, 0) > 0 as is_returned,
        fulfilment.first_return_reason as return_reason,
        coalesce(fulfilment.ticket_count, 0) as ticket_count,
        coalesce(fulfilment.complaint_count, 0) > 0 as has_complaint,
        coalesce(fulfilment.open_complaint_count, 0) > 0 as has_open_complaint
    from orders
    inner join identities
        on orders.account_id = identities.account_id
    left join line_facts
        on orders.order_id = line_facts.order_id
    left join fulfilment
        on orders.order_id = fulfilment.order_id
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
        {{ retention.days_between('previous_ordered_at', 'ordered_at') }} as days_since_previous_order
    from sequenced
)

select * from final
