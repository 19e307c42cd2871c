{{ config(materialized='incremental', unique_key='shipment_id') }}

with

source as (
    {{ retention.incremental_source(source('logistics', 'shipments'), ['shipment_id']) }}
),

latest as (
    -- a shipment is re-exported once delivered; no modification time in the export, the latest load wins
    select
        *,
        {{ retention.latest_version_rank(['shipment_id']) }} as version_rank
    from source
),

renamed as (
    select
        trim(shipment_id) as shipment_id,
        lower(trim(platform)) as platform,
        trim(order_id) as platform_order_id,
        carrier,
        tracking_number,
        upper(nullif(trim(destination_country), '')) as destination_country_code,
        {{ retention.to_utc_timestamp('shipped_at') }} as shipped_at,
        {{ retention.to_utc_timestamp('delivered_at') }} as delivered_at,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
