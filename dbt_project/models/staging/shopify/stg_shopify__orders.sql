{{ config(materialized='incremental', unique_key='order_id') }}
{%- set customer_schema = {
    'id': 'text', 'email': 'text', 'phone': 'text', 'first_name': 'text', 'last_name': 'text',
    'created_at': 'text',
    'email_marketing_consent': {'state': 'text', 'opt_in_level': 'text', 'consent_updated_at': 'text'},
    'sms_marketing_consent': {'state': 'text', 'consent_updated_at': 'text'},
} -%}
{%- set address_schema = {
    'first_name': 'text', 'last_name': 'text', 'address1': 'text', 'city': 'text', 'province': 'text',
    'province_code': 'text', 'zip': 'text', 'country': 'text', 'country_code': 'text', 'phone': 'text',
} -%}

with

source as (
    {{ retention.incremental_source(source('shopify', 'shopify_orders'), ['id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['id'], retention.to_utc_timestamp('updated_at')) }} as version_rank
    from source
),

parsed as (
    select
        *,
        {{ retention.json_to_struct('customer', customer_schema) }} as customer_struct,
        {{ retention.json_to_struct('shipping_address', address_schema) }} as address_struct,
        {{ retention.json_to_struct('total_shipping_price_set', {'shop_money': {'amount': 'text', 'currency_code': 'text'}}) }}
            as shipping_price_struct,
        {{ retention.json_to_struct('discount_codes', [{'code': 'text', 'amount': 'text', 'type': 'text'}]) }}
            as discount_code_list,
        {{ retention.json_to_struct('refunds', [{'id': 'text', 'created_at': 'text'}]) }} as refund_list
    from latest
    where version_rank = 1
),

renamed as (
    select
        cast(id as {{ retention.type_text() }}) as order_id,
        name as order_name,
        nullif(trim(customer_struct.id), '') as shopify_customer_id,
        coalesce(nullif(trim(customer_struct.email), ''), nullif(trim(email), '')) as email,
        coalesce(
            nullif(trim(customer_struct.phone), ''), nullif(trim(phone), ''), nullif(trim(address_struct.phone), '')
        ) as phone,
        coalesce(nullif(trim(customer_struct.first_name), ''), nullif(trim(address_struct.first_name), '')) as first_name,
        coalesce(nullif(trim(customer_struct.last_name), ''), nullif(trim(address_struct.last_name), '')) as last_name,
        {{ retention.to_utc_timestamp('customer_struct.created_at') }} as customer_created_at,
        lower(customer_struct.email_marketing_consent.state) as email_consent_state,
        {{ retention.to_utc_timestamp('customer_struct.email_marketing_consent.consent_updated_at') }}
            as email_consent_updated_at,
        lower(customer_struct.sms_marketing_consent.state) as sms_consent_state,
        address_struct.address1 as shipping_address_line_1,
        address_struct.city as shipping_city,
        coalesce(address_struct.province_code, address_struct.province) as shipping_state,
        nullif(trim(address_struct.zip), '') as shipping_postal_code,
        upper(nullif(trim(address_struct.country_code), '')) as shipping_country_code,
        {{ retention.to_utc_timestamp('created_at') }} as ordered_at,
        {{ retention.to_utc_timestamp('processed_at') }} as processed_at,
        {{ retention.to_utc_timestamp('updated_at') }} as updated_at,
        {{ retention.to_utc_timestamp('cancelled_at') }} as cancelled_at,
        cancelled_at is not null and trim(cancelled_at) <> '' as is_cancelled,
        upper(trim(currency)) as currency,
        {{ retention.to_amount('total_price') }} as total_amount,
        {{ retention.to_amount('subtotal_price') }} as subtotal_amount,
        coalesce({{ retention.to_amount('total_discounts') }}, 0) as discount_amount,
        coalesce({{ retention.to_amount('shipping_price_struct.shop_money.amount') }}, 0) as shipping_amount,
        {{ retention.array_element('discount_code_list', 1) }}.code as discount_code,
        (
            {{ retention.array_size('discount_code_list') }} > 0
            or coalesce({{ retention.to_amount('total_discounts') }}, 0) > 0
        ) as has_discount,
        lower(financial_status) as financial_status,
        lower(fulfillment_status) as fulfillment_status,
        {{ retention.array_size('refund_list') }} as refund_count,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from parsed
)

select * from renamed
