-- One row per order line from every platform (Amazon: per order item; generic import: one
-- line per order), merchandise value after line discounts, in the order's currency.
-- Incremental: a line is one staging row, so a nightly run merges only the lines whose
-- staging row arrived since the last build (new lines and new versions of old ones).

{{ config(materialized='incremental', unique_key='order_line_id') }}

with

shopify_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
    where {{ retention.arrived_since_last_build() }}
),

amazon_items as (
    select * from {{ ref('stg_amazon__order_items') }}
    where {{ retention.arrived_since_last_build() }}
),

ebay_lines as (
    select * from {{ ref('stg_ebay__order_lines') }}
    where {{ retention.arrived_since_last_build() }}
),

walmart_lines as (
    select * from {{ ref('stg_walmart__order_lines') }}
    where {{ retention.arrived_since_last_build() }}
),

generic_orders as (
    select * from {{ ref('stg_generic__orders') }}
    where {{ retention.arrived_since_last_build() }}
),

unioned as (
    select
        'shopify' as platform,
        order_id as platform_order_id,
        order_line_id as platform_line_id,
        sku,
        product_name,
        quantity,
        line_amount,
        discount_amount,
        loaded_at
    from shopify_lines
    union all
    select
        'amazon' as platform,
        order_id as platform_order_id,
        sku as platform_line_id,
        sku,
        product_name,
        quantity,
        cast(item_amount - discount_amount as decimal(18, 2)) as line_amount,
        discount_amount,
        loaded_at
    from amazon_items
    union all
    select
        'ebay' as platform,
        order_id as platform_order_id,
        order_line_id as platform_line_id,
        sku,
        product_name,
        quantity,
        line_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        loaded_at
    from ebay_lines
    union all
    select
        'walmart' as platform,
        order_id as platform_order_id,
        line_number as platform_line_id,
        sku,
        product_name,
        quantity,
        line_amount,
        discount_amount,
        loaded_at
    from walmart_lines
    union all
    select
        'generic' as platform,
        order_id as platform_order_id,
        '1' as platform_line_id,
        sku,
        cast(null as {{ retention.type_text() }}) as product_name,
        quantity,
        total_amount as line_amount,
        cast(0 as decimal(18, 2)) as discount_amount,
        loaded_at
    from generic_orders
),

final as (
    select
        platform || ':' || platform_order_id || ':' || platform_line_id as order_line_id,
        platform || ':' || platform_order_id as order_id,
        platform,
        platform_order_id,
        platform_line_id,
        sku,
        product_name,
        quantity,
        line_amount,
        discount_amount,
        loaded_at,
        {{ retention.build_started_at() }} as built_at
    from unioned
)

select * from final
