with

source as (
    select * from {{ source('catalog', 'products') }}
),

latest as (
    select
        *,
        {{ retention.latest_version_rank(['sku']) }} as version_rank
    from source
),

renamed as (
    select
        trim(sku) as sku,
        nullif(trim(product_id), '') as product_id,
        title as product_name,
        lower(trim(category)) as category,
        lower(nullif(trim(category_type), '')) as category_type,
        {{ retention.to_amount('list_price_usd') }} as list_price_usd,
        {{ retention.try_cast('launched_on', 'date') }} as launched_on
    from latest
    where version_rank = 1
)

select * from renamed
