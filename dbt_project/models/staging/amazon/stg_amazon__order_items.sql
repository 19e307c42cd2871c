{{ config(materialized='incremental', unique_key='order_item_id') }}

with

source as (
    {{ retention.incremental_source(source('amazon', 'amazon_order_items'), [q('amazon-order-id'), q('sku')]) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(
            [q('amazon-order-id'), q('sku')], retention.to_utc_timestamp(q('last-updated-date'))
        ) }} as version_rank
    from source
),

renamed as (
    select
        trim({{ q('amazon-order-id') }}) as order_id,
        trim({{ q('sku') }}) as sku,
        trim({{ q('amazon-order-id') }}) || ':' || trim({{ q('sku') }}) as order_item_id,
        nullif(trim({{ q('merchant-order-id') }}), '') as merchant_order_id,
        {{ retention.to_utc_timestamp(q('purchase-date')) }} as ordered_at,
        {{ retention.to_utc_timestamp(q('last-updated-date')) }} as updated_at,
        lower(trim({{ q('order-status') }})) as order_status,
        lower(trim({{ q('order-status') }})) = 'cancelled' as is_cancelled,
        {{ q('fulfillment-channel') }} as fulfillment_channel,
        {{ q('sales-channel') }} as sales_channel,
        nullif(trim({{ q('asin') }}), '') as asin,
        {{ q('product-name') }} as product_name,
        coalesce({{ retention.try_cast(q('quantity'), 'integer') }}, 1) as quantity,
        upper(trim({{ q('currency') }})) as currency,
        {{ retention.to_amount(q('item-price')) }} as item_amount,
        coalesce({{ retention.to_amount(q('item-tax')) }}, 0) as tax_amount,
        coalesce({{ retention.to_amount(q('shipping-price')) }}, 0) as shipping_amount,
        -- the report shows promotions as a negative or positive number depending on the marketplace
        abs(coalesce({{ retention.to_amount(q('item-promotion-discount')) }}, 0)) as discount_amount,
        nullif(trim({{ q('ship-city') }}), '') as shipping_city,
        nullif(trim({{ q('ship-state') }}), '') as shipping_state,
        nullif(trim({{ q('ship-postal-code') }}), '') as shipping_postal_code,
        upper(nullif(trim({{ q('ship-country') }}), '')) as shipping_country_code,
        nullif(trim({{ q('buyer-email') }}), '') as buyer_email,
        nullif(trim({{ q('buyer-name') }}), '') as buyer_name,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
