-- Per order: shipment, delivery, return and complaint facts known by the as-of date
-- (a delivery, return or ticket after it is ignored, like every later event).

with

shipments as (
    select * from {{ ref('stg_logistics__shipments') }}
),

returns as (
    select * from {{ ref('stg_logistics__returns') }}
),

tickets as (
    select * from {{ ref('stg_support__tickets') }}
),

as_of as {{ retention.not_materialized() }} (
    select * from {{ ref('int_as_of_dates_resolved') }}
),

shipment_facts as (
    select
        shipments.platform || ':' || shipments.platform_order_id as order_id,
        min(shipments.shipped_at) as shipped_at,
        -- delivered once every parcel arrived; parcels delivered after the as-of date are in transit
        case
            when count(*) = count(case when shipments.delivered_at < as_of.as_of_end_at then 1 end)
                then max(shipments.delivered_at)
        end as delivered_at,
        max(shipments.carrier) as carrier,
        max(shipments.destination_country_code) as destination_country_code
    from shipments
    cross join as_of
    where shipments.shipped_at < as_of.as_of_end_at
    group by shipments.platform || ':' || shipments.platform_order_id
),

return_facts as (
    select
        returns.platform || ':' || returns.platform_order_id as order_id,
        count(*) as return_count,
        min(returns.requested_at) as first_return_requested_at,
        {{ retention.arg_min('returns.return_reason', 'returns.requested_at') }} as first_return_reason
    from returns
    cross join as_of
    where returns.requested_at < as_of.as_of_end_at
    group by returns.platform || ':' || returns.platform_order_id
),

ticket_facts as (
    select
        tickets.platform || ':' || tickets.platform_order_id as order_id,
        count(*) as ticket_count,
        sum(case when tickets.is_complaint then 1 else 0 end) as complaint_count,
        sum(
            case
                when tickets.is_complaint and (tickets.resolved_at is null or tickets.resolved_at >= as_of.as_of_end_at)
                    then 1
                else 0
            end
        ) as open_complaint_count
    from tickets
    cross join as_of
    where tickets.created_at < as_of.as_of_end_at
        and tickets.platform_order_id is not null
    group by tickets.platform || ':' || tickets.platform_order_id
),

order_ids as (
    select order_id from shipment_facts
    union
    select order_id from return_facts
    union
    select order_id from ticket_facts
),

final as (
    select
        order_ids.order_id,
        shipment_facts.shipped_at,
        shipment_facts.delivered_at,
        shipment_facts.carrier,
        shipment_facts.destination_country_code,
        coalesce(return_facts.return_count, 0) as return_count,
        return_facts.first_return_requested_at,
        return_facts.first_return_reason,
        coalesce(ticket_facts.ticket_count, 0) as ticket_count,
        coalesce(ticket_facts.complaint_count, 0) as complaint_count,
        coalesce(ticket_facts.open_complaint_count, 0) as open_complaint_count
    from order_ids
    left join shipment_facts
        on order_ids.order_id = shipment_facts.order_id
    left join return_facts
        on order_ids.order_id = return_facts.order_id
    left join ticket_facts
        on order_ids.order_id = ticket_facts.order_id
)

select * from final
