with

source as (
    select * from {{ source('meta_ads', 'meta_ads_insights') }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['campaign_id', 'date_start']) }} as version_rank
    from source
),

current_versions as (
    select * from latest
    where version_rank = 1
),

actions as (
    select
        campaign_id,
        date_start,
        {{ retention.explode(retention.json_to_struct('actions', [{'action_type': 'text', 'value': 'text'}])) }} as action
    from current_versions
),

purchases as (
    select
        campaign_id,
        date_start,
        sum({{ retention.try_cast('action.value', 'decimal(18, 4)') }}) as purchases
    from actions
    where action.action_type in ('purchase', 'offsite_conversion.fb_pixel_purchase', 'omni_purchase')
    group by campaign_id, date_start
),

renamed as (
    select
        trim(current_versions.campaign_id) as campaign_id,
        cast(current_versions.date_start as date) as campaign_date,
        trim(current_versions.campaign_id) || ':' || cast(cast(current_versions.date_start as date) as {{ retention.type_text() }})
            as campaign_day_id,
        current_versions.campaign_name,
        upper(trim(current_versions.account_currency)) as currency,
        {{ retention.to_amount('current_versions.spend') }} as spend_amount,
        coalesce({{ retention.try_cast('current_versions.impressions', 'bigint') }}, 0) as impressions,
        coalesce({{ retention.try_cast('current_versions.clicks', 'bigint') }}, 0) as clicks,
        coalesce(purchases.purchases, 0) as conversions
    from current_versions
    left join purchases
        on current_versions.campaign_id = purchases.campaign_id
        and current_versions.date_start = purchases.date_start
)

select * from renamed
