{{ config(materialized='incremental', unique_key='email_event_id') }}

with

source as (
    {{ retention.incremental_source(source('email', 'email_events'), ['event_id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['event_id']) }} as version_rank
    from source
),

renamed as (
    select
        trim(event_id) as email_event_id,
        {{ retention.normalize_email('email') }} as email,
        lower(trim(event_type)) as event_type,
        nullif(trim(campaign_id), '') as campaign_id,
        campaign_name,
        {{ retention.to_utc_timestamp('occurred_at') }} as occurred_at,
        _loaded_at as loaded_at,
        {{ retention.build_started_at() }} as built_at
    from latest
    where version_rank = 1
)

select * from renamed
