{{ config(materialized='incremental', unique_key='order_id') }}
{%- set line_schema = [{
    'id': 'text', 'product_id': 'text', 'variant_id': 'text', 'sku': 'text', 'title': 'text',
    'quantity': 'text', 'price': 'text', 'total_discount': 'text',
}] -%}

with

source as (
    {{ retention.incremental_source(source('shopify', 'shopify_orders'), ['id']) }}
),

latest as (
    select
        id,
        line_items,
        _loaded_at,
        {{ retention.latest_version_rank(['id'], retention.to_utc_timestamp('updated_at')) }} as version_rank
    from source
),

exploded as (
    select
        cast(id as {{ retention.type_text() }}) as order_id,
        {{ retention.explode(retention.json_to_struct('line_items', line_schema)) }} as line_item,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
),

renamed as (
    select
        order_id,
        coalesce(line_item.id, line_item.sku) as order_line_id,
        line_item.product_id,
        line_item.variant_id,
        nullif(trim(line_item.sku), '') as sku,
        line_item.title as product_name,
        coalesce({{ retention.try_cast('line_item.quantity', 'integer') }}, 1) as quantity,
        {{ retention.to_amount('line_item.price') }} as unit_price,
        coalesce({{ retention.to_amount('line_item.total_discount') }}, 0) as discount_amount,
        cast(
            {{ retention.to_amount('line_item.price') }} * coalesce({{ retention.try_cast('line_item.quantity', 'integer') }}, 1)
            - coalesce({{ retention.to_amount('line_item.total_discount') }}, 0)
            as decimal(18, 2)
        ) as line_amount,
        loaded_at
    from exploded
)

select * from renamed
