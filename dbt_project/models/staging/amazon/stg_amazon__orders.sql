{{ config(materialized='incremental', unique_key='order_id') }}
{%- set buyer_schema = {'BuyerEmail': 'text', 'BuyerName': 'text'} -%}
{%- set address_schema = {
    'Name': 'text', 'AddressLine1': 'text', 'City': 'text', 'StateOrRegion': 'text', 'PostalCode': 'text',
    'CountryCode': 'text', 'Phone': 'text',
} -%}

with

source as (
    {{ retention.incremental_source(source('amazon', 'amazon_orders'), [q('AmazonOrderId')]) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank([q('AmazonOrderId')], retention.to_utc_timestamp(q('LastUpdateDate'))) }}
            as version_rank
    from source
),

parsed as (
    select
        *,
        {{ retention.json_to_struct(q('OrderTotal'), {'CurrencyCode': 'text', 'Amount': 'text'}) }} as total_struct,
        {{ retention.json_to_struct(q('BuyerInfo'), buyer_schema) }} as buyer_struct,
        {{ retention.json_to_struct(q('ShippingAddress'), address_schema) }} as address_struct
    from latest
    where version_rank = 1
),

renamed as (
    select
        trim({{ q('AmazonOrderId') }}) as order_id,
        nullif(trim({{ q('SellerOrderId') }}), '') as seller_order_id,
        {{ retention.to_utc_timestamp(q('PurchaseDate')) }} as ordered_at,
        {{ retention.to_utc_timestamp(q('LastUpdateDate')) }} as updated_at,
        lower(trim({{ q('OrderStatus') }})) as order_status,
        lower(trim({{ q('OrderStatus') }})) in ('canceled', 'cancelled') as is_cancelled,
        {{ q('FulfillmentChannel') }} as fulfillment_channel,
        {{ q('SalesChannel') }} as sales_channel,
        {{ q('MarketplaceId') }} as marketplace_id,
        upper(trim(total_struct.CurrencyCode)) as currency,
        {{ retention.to_amount('total_struct.Amount') }} as total_amount,
        nullif(trim(buyer_struct.BuyerEmail), '') as buyer_email,
        nullif(trim(coalesce(buyer_struct.BuyerName, address_struct.Name)), '') as buyer_name,
        nullif(trim(address_struct.Phone), '') as phone,
        nullif(trim(address_struct.City), '') as shipping_city,
        nullif(trim(address_struct.StateOrRegion), '') as shipping_state,
        nullif(trim(address_struct.PostalCode), '') as shipping_postal_code,
        upper(nullif(trim(address_struct.CountryCode), '')) as shipping_country_code,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from parsed
)

select * from renamed
