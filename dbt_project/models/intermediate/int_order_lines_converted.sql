-- Order lines of the orders in scope (as-of date), money in the reporting currency at the
-- order's rate, with the product's category from the catalogue.
-- A view: fct_orders and fct_order_lines are incremental and read only the lines of the
-- orders they rebuild, so materialising every line each night would be wasted work.

{{ config(materialized='view') }}

with

order_lines as (
    select * from {{ ref('int_order_lines_unioned') }}
),

orders as (
    select * from {{ ref('int_orders_converted') }}
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

final as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.platform,
        order_lines.platform_order_id,
        orders.account_id,
        orders.ordered_at,
        orders.is_cancelled,
        order_lines.sku,
        coalesce(products.product_name, order_lines.product_name) as product_name,
        products.category,
        products.category_type,
        order_lines.quantity,
        order_lines.line_amount as line_amount_local,
        cast(order_lines.line_amount * orders.fx_rate as decimal(18, 2)) as line_amount,
        cast(order_lines.discount_amount * orders.fx_rate as decimal(18, 2)) as discount_amount,
        order_lines.loaded_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.sku = products.sku
)

select * from final
