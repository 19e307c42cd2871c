{{ config(materialized='incremental', unique_key='web_event_id') }}

with

source as (
    {{ retention.incremental_source(source('web', 'web_events'), ['event_id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['event_id']) }} as version_rank
    from source
),

renamed as (
    select
        trim(event_id) as web_event_id,
        nullif(trim(session_id), '') as session_id,
        {{ retention.normalize_email('email') }} as email,
        lower(trim(event_type)) as event_type,
        nullif(trim(sku), '') as sku,
        {{ retention.to_utc_timestamp('occurred_at') }} as occurred_at,
        _loaded_at as loaded_at,
        {{ retention.build_started_at() }} as built_at
    from latest
    where version_rank = 1
)

select * from renamed
