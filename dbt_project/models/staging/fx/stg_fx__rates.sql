with

source as (
    select * from {{ source('fx', 'fx_rates') }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['rate_date', 'currency']) }} as version_rank
    from source
),

renamed as (
    select
        cast(rate_date as date) as rate_date,
        upper(trim(currency)) as currency,
        upper(trim(currency)) || ':' || cast(cast(rate_date as date) as {{ retention.type_text() }}) as fx_rate_id,
        {{ retention.try_cast('usd_per_unit', 'decimal(24, 10)') }} as usd_per_unit
    from latest
    where version_rank = 1
)

select * from renamed
