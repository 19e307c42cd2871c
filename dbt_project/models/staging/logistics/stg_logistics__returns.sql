{{ config(materialized='incremental', unique_key='return_id') }}

with

source as (
    {{ retention.incremental_source(source('logistics', 'returns'), ['return_id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['return_id']) }} as version_rank
    from source
),

renamed as (
    select
        trim(return_id) as return_id,
        lower(trim(platform)) as platform,
        trim(order_id) as platform_order_id,
        nullif(trim(sku), '') as sku,
        coalesce({{ retention.try_cast('quantity', 'integer') }}, 1) as quantity,
        lower(nullif(trim(reason), '')) as return_reason,
        {{ retention.to_utc_timestamp('requested_at') }} as requested_at,
        {{ retention.to_amount('refund_amount') }} as refund_amount,
        upper(nullif(trim(currency), '')) as currency,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
