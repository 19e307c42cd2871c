-- One row per order line up to the as-of date, with the customer, the product's category
-- and whether that product of the order was returned.
-- Incremental while the as-of date follows the data (a pinned as_of_date builds a plain
-- table): a nightly run rebuilds the lines of the orders with a line whose row would
-- change - a line loaded since the last build, an order fct_orders rewrote since (a new
-- order, or one that may now belong to another customer, was cancelled, moved or re-converted
-- at a corrected rate), a product moved to another category, a return of that product - and
-- leaves every other line.

-- depends_on: {{ ref('int_order_lines_unioned') }}
-- depends_on: {{ ref('stg_catalog__products') }}

{{ config(
    materialized=retention.incremental_unless_as_of_pinned(),
    unique_key='order_line_id',
) }}

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

{% if is_incremental() -%}
built as {{ retention.not_materialized() }} (
    select * from {{ this }}
),

products as (
    select * from {{ ref('stg_catalog__products') }}
),

changed_orders as (
    -- lines loaded since the last build (lines are only ever added or replaced)
    select order_id
    from {{ ref('int_order_lines_unioned') }}
    where loaded_at > coalesce((select max(loaded_at) from built), cast('1900-01-01' as timestamp))

    union

    -- orders fct_orders wrote since this table's last build: new orders, and every order
    -- whose customer, time, status or rate may have changed (fct_orders rewrites all orders
    -- of a customer with a changed order), without joining every order with its lines
    select order_id
    from orders
    where {{ retention.arrived_since_last_build('built_at', watermark='built_at') }}

    union

    -- a product moved to another category in the catalogue
    select built.order_id
    from built
    left join products
        on built.sku = products.sku
    where built.category is distinct from products.category
        or built.category_type is distinct from products.category_type

    union

    -- returns known by the as-of date that the built lines do not show, or no longer show
    select coalesce(returned_skus.order_id, built.order_id)
    from (select * from built where returned_quantity > 0) as built
    full outer join returned_skus
        on built.order_id = returned_skus.order_id
        and built.sku = returned_skus.sku
    where built.returned_quantity is distinct from returned_skus.returned_quantity
),

{% endif -%}
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
        coalesce(returned_skus.returned_quantity, 0) as returned_quantity,
        order_lines.loaded_at,
        {{ retention.build_started_at() }} as built_at
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join returned_skus
        on order_lines.order_id = returned_skus.order_id
        and order_lines.sku = returned_skus.sku
    {%- if is_incremental() %}
    where order_lines.order_id in (select order_id from changed_orders)
    {%- endif %}
)

select * from final
