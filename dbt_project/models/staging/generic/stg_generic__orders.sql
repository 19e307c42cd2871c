{{ config(materialized='incremental', unique_key='order_id') }}

with

source as (
    {{ retention.incremental_source(source('generic', 'generic_orders'), ['order_id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['order_id']) }} as version_rank
    from source
),

renamed as (
    select
        trim(order_id) as order_id,
        trim(customer_id) as customer_key,
        {{ retention.to_utc_timestamp('ordered_at') }} as ordered_at,
        {{ retention.to_amount('amount') }} as total_amount,
        coalesce(upper(nullif(trim(currency), '')), '{{ var("reporting_currency") }}') as currency,
        upper(nullif(trim(country), '')) as country_code,
        nullif(trim(sku), '') as sku,
        nullif(trim(email), '') as email,
        coalesce({{ retention.try_cast('quantity', 'integer') }}, 1) as quantity,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
