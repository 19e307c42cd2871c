{{ config(materialized='incremental', unique_key='order_id') }}
{%- set shipping_schema = {
    'phone': 'text', 'estimatedDeliveryDate': 'text', 'methodCode': 'text',
    'postalAddress': {
        'name': 'text', 'address1': 'text', 'city': 'text', 'state': 'text', 'postalCode': 'text', 'country': 'text',
    },
} -%}

with

source as (
    {{ retention.incremental_source(source('walmart', 'walmart_orders'), [q('purchaseOrderId')]) }}
),

countries as (
    -- a code lookup, not a business join: Walmart sends ISO alpha-3, the warehouse uses alpha-2
    select * from {{ ref('country_codes') }}
),

latest as (
    -- Walmart has no modification timestamp on the order: the latest load wins
    select
        *,
        {{ retention.latest_version_rank([q('purchaseOrderId')]) }} as version_rank
    from source
),

parsed as (
    select
        *,
        {{ retention.json_to_struct(q('shippingInfo'), shipping_schema) }} as shipping_struct
    from latest
    where version_rank = 1
),

flattened as (
    select
        trim({{ q('purchaseOrderId') }}) as order_id,
        nullif(trim({{ q('customerOrderId') }}), '') as customer_order_id,
        nullif(trim({{ q('customerEmailId') }}), '') as customer_email,
        {{ retention.epoch_ms_to_timestamp(q('orderDate')) }} as ordered_at,
        {{ retention.epoch_ms_to_timestamp('shipping_struct.estimatedDeliveryDate') }} as estimated_delivery_at,
        shipping_struct.methodCode as shipping_method,
        nullif(trim(shipping_struct.phone), '') as phone,
        nullif(trim(shipping_struct.postalAddress.name), '') as full_name,
        shipping_struct.postalAddress.city,
        shipping_struct.postalAddress.state,
        nullif(trim(shipping_struct.postalAddress.postalCode), '') as postal_code,
        upper(nullif(trim(shipping_struct.postalAddress.country), '')) as country_code_alpha3,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from parsed
),

renamed as (
    select
        flattened.order_id,
        flattened.customer_order_id,
        flattened.customer_email,
        flattened.ordered_at,
        flattened.estimated_delivery_at,
        flattened.shipping_method,
        flattened.phone,
        flattened.full_name,
        flattened.city,
        flattened.state,
        flattened.postal_code,
        flattened.country_code_alpha3,
        countries.country_code,
        flattened.batch_id,
        flattened.loaded_at
    from flattened
    left join countries
        on flattened.country_code_alpha3 = countries.country_code_alpha3
)

select * from renamed
