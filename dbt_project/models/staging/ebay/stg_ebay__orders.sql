{{ config(materialized='incremental', unique_key='order_id') }}
{%- set money = {'value': 'text', 'currency': 'text'} -%}
{%- set address = {'city': 'text', 'stateOrProvince': 'text', 'postalCode': 'text', 'countryCode': 'text'} -%}
{%- set buyer_schema = {
    'username': 'text',
    'taxAddress': address,
    'buyerRegistrationAddress': {
        'fullName': 'text', 'email': 'text', 'primaryPhone': {'phoneNumber': 'text'}, 'contactAddress': address,
    },
} -%}
{%- set pricing_schema = {'priceSubtotal': money, 'priceDiscount': money, 'deliveryCost': money, 'total': money} -%}

with

source as (
    {{ retention.incremental_source(source('ebay', 'ebay_orders'), [q('orderId')]) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank([q('orderId')], retention.to_utc_timestamp(q('lastModifiedDate'))) }}
            as version_rank
    from source
),

parsed as (
    select
        *,
        {{ retention.json_to_struct(q('buyer'), buyer_schema) }} as buyer_struct,
        {{ retention.json_to_struct(q('pricingSummary'), pricing_schema) }} as pricing_struct,
        {{ retention.json_to_struct(q('paymentSummary'), {'refunds': [{'refundId': 'text', 'refundDate': 'text', 'amount': money}]}) }}
            as payment_struct
    from latest
    where version_rank = 1
),

renamed as (
    select
        trim({{ q('orderId') }}) as order_id,
        nullif(trim({{ q('legacyOrderId') }}), '') as legacy_order_id,
        nullif(trim(buyer_struct.username), '') as buyer_username,
        nullif(trim(buyer_struct.buyerRegistrationAddress.email), '') as email,
        nullif(trim(buyer_struct.buyerRegistrationAddress.primaryPhone.phoneNumber), '') as phone,
        nullif(trim(buyer_struct.buyerRegistrationAddress.fullName), '') as full_name,
        coalesce(buyer_struct.buyerRegistrationAddress.contactAddress.city, buyer_struct.taxAddress.city) as city,
        coalesce(
            buyer_struct.buyerRegistrationAddress.contactAddress.stateOrProvince, buyer_struct.taxAddress.stateOrProvince
        ) as state,
        nullif(trim(coalesce(
            buyer_struct.buyerRegistrationAddress.contactAddress.postalCode, buyer_struct.taxAddress.postalCode
        )), '') as postal_code,
        upper(nullif(trim(coalesce(
            buyer_struct.taxAddress.countryCode, buyer_struct.buyerRegistrationAddress.contactAddress.countryCode
        )), '')) as country_code,
        {{ retention.to_utc_timestamp(q('creationDate')) }} as ordered_at,
        {{ retention.to_utc_timestamp(q('lastModifiedDate')) }} as updated_at,
        upper(trim({{ q('orderFulfillmentStatus') }})) as fulfillment_status,
        upper(trim({{ q('orderPaymentStatus') }})) as payment_status,
        -- the raw table has no cancelStatus: a cancelled order is fully refunded and never fulfilled
        upper(trim({{ q('orderPaymentStatus') }})) in ('FAILED', 'FULLY_REFUNDED')
        and upper(trim({{ q('orderFulfillmentStatus') }})) = 'NOT_STARTED' as is_cancelled,
        upper(trim(pricing_struct.total.currency)) as currency,
        {{ retention.to_amount('pricing_struct.total.value') }} as total_amount,
        {{ retention.to_amount('pricing_struct.priceSubtotal.value') }} as subtotal_amount,
        abs(coalesce({{ retention.to_amount('pricing_struct.priceDiscount.value') }}, 0)) as discount_amount,
        coalesce({{ retention.to_amount('pricing_struct.deliveryCost.value') }}, 0) as shipping_amount,
        {{ retention.array_size('payment_struct.refunds') }} as refund_count,
        _batch_id as batch_id,
        _loaded_at as loaded_at
    from parsed
)

select * from renamed
