{{ config(materialized='incremental', unique_key='ticket_id') }}

with

source as (
    {{ retention.incremental_source(source('support', 'support_tickets'), ['ticket_id']) }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['ticket_id'], retention.to_utc_timestamp('updated_at')) }} as version_rank
    from source
),

renamed as (
    select
        trim(ticket_id) as ticket_id,
        {{ retention.normalize_email('requester_email') }} as requester_email,
        lower(nullif(trim(platform), '')) as platform,
        nullif(trim(order_ref), '') as platform_order_id,
        lower(nullif(trim(topic), '')) as topic,
        coalesce(lower(trim(is_complaint)) in ('true', '1', 'yes', 't'), false) as is_complaint,
        lower(trim(status)) as status,
        {{ retention.to_utc_timestamp('created_at') }} as created_at,
        {{ retention.to_utc_timestamp('updated_at') }} as updated_at,
        {{ retention.to_utc_timestamp('solved_at') }} as solved_at,
        -- closed without a solve time counts as resolved when it was last updated
        coalesce(
            {{ retention.to_utc_timestamp('solved_at') }},
            case when lower(trim(status)) in ('solved', 'closed') then {{ retention.to_utc_timestamp('updated_at') }} end
        ) as resolved_at,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
