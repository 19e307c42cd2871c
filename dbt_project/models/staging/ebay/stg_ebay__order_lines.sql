{{ config(materialized='incremental', unique_key='order_id') }}
{%- set money = {'value': 'text', 'currency': 'text'} -%}
{%- set line_schema = [{
    'lineItemId': 'text', 'legacyItemId': 'text', 'sku': 'text', 'title': 'text', 'quantity': 'text',
    'lineItemCost': money, 'total': money,
}] -%}

with

source as (
    {{ retention.incremental_source(source('ebay', 'ebay_orders'), [q('orderId')]) }}
),

latest as (
    select
        {{ q('orderId') }} as order_id,
        {{ q('lineItems') }} as line_items,
        _loaded_at,
        {{ retention.latest_version_rank([q('orderId')], retention.to_utc_timestamp(q('lastModifiedDate'))) }}
            as version_rank
    from source
),

exploded as (
    select
        trim(order_id) as order_id,
        {{ retention.explode(retention.json_to_struct('line_items', line_schema)) }} as line_item,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
),

renamed as (
    select
        order_id,
        coalesce(line_item.lineItemId, line_item.sku) as order_line_id,
        line_item.legacyItemId as legacy_item_id,
        nullif(trim(line_item.sku), '') as sku,
        line_item.title as product_name,
        coalesce({{ retention.try_cast('line_item.quantity', 'integer') }}, 1) as quantity,
        {{ retention.to_amount('line_item.lineItemCost.value') }} as line_cost_amount,
        coalesce(
            {{ retention.to_amount('line_item.total.value') }}, {{ retention.to_amount('line_item.lineItemCost.value') }}
        ) as line_amount,
        upper(coalesce(line_item.total.currency, line_item.lineItemCost.currency)) as currency,
        loaded_at
    from exploded
)

select * from renamed
