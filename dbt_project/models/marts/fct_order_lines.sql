-- One row per order line up to the as-of date, with the customer, the product's category
-- and whether that product of the order was returned.

with

order_lines as (
    select * from {{ ref('int_order_lines_converted') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

returns as (
    select * from {{ ref('stg_logistics__returns') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

returned_skus as (
    select
        returns.platform || ':' || returns.platform_order_id as order_id,
        returns.sku,
        sum(returns.quantity) as returned_quantity
    from returns
    cross join as_of
    where returns.requested_at < as_of.as_of_end_at
    group by returns.platform || ':' || returns.platform_order_id, returns.sku
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.customer_id,
        order_lines.platform,
        orders.ordered_at,
        orders.ordered_date,
        orders.is_cancelled,
        order_lines.sku,
        order_lines.product_name,
        order_lines.category,
        order_lines.category_type,
        order_lines.quantity,
        order_lines.line_amount_local,
        order_lines.line_amount,
        order_lines.discount_amount,
        coalesce(returned_skus.returned_quantity, 0) > 0 as is_returned,
        coalesce(returned_skus.returned_quantity, 0) as returned_quantity
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join returned_skus
        on order_lines.order_id = returned_skus.order_id
        and order_lines.sku = returned_skus.sku
)

select * from final
