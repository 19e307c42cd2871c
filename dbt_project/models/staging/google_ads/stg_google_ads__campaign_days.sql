with

source as (
    select * from {{ source('google_ads', 'google_ads_campaign_performance') }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank([q('campaign.id'), q('segments.date')]) }} as version_rank
    from source
),

renamed as (
    select
        trim({{ q('campaign.id') }}) as campaign_id,
        cast({{ q('segments.date') }} as date) as campaign_date,
        trim({{ q('campaign.id') }}) || ':'
        || cast(cast({{ q('segments.date') }} as date) as {{ retention.type_text() }}) as campaign_day_id,
        {{ q('campaign.name') }} as campaign_name,
        upper(trim({{ q('customer.currency_code') }})) as currency,
        -- cost arrives in micros of the account currency
        cast({{ retention.try_cast(q('metrics.cost_micros'), 'decimal(24, 4)') }} / 1000000 as decimal(18, 2)) as spend_amount,
        coalesce({{ retention.try_cast(q('metrics.impressions'), 'bigint') }}, 0) as impressions,
        coalesce({{ retention.try_cast(q('metrics.clicks'), 'bigint') }}, 0) as clicks,
        coalesce({{ retention.try_cast(q('metrics.conversions'), 'decimal(18, 4)') }}, 0) as conversions
    from latest
    where version_rank = 1
)

select * from renamed
