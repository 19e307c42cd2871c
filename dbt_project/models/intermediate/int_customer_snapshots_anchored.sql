-- Per customer and ML snapshot date: the customer's last order placed by the snapshot (the
-- one whose next order, if any, came after it) with the running totals as of the snapshot.
-- Customers appear from the snapshot of their first order on.

with

order_history as (
    select * from {{ ref('int_order_histories_accumulated') }}
),

snapshots as (
    select * from {{ ref('int_snapshot_dates_generated') }}
),

last_orders as (
    -- per customer and snapshot: the last order placed by the snapshot (the one whose next
    -- order, if any, came after it), carrying the running totals as of the snapshot
    select
        snapshots.snapshot_date,
        {{ retention.star_except(ref('int_order_histories_accumulated'), 'order_history', ['built_at']) }}
    from order_history
    inner join snapshots
        on order_history.ordered_date <= snapshots.snapshot_date
        and (order_history.next_ordered_date is null or order_history.next_ordered_date > snapshots.snapshot_date)
),

final as (
    select
        customer_id || ':' || cast(snapshot_date as {{ retention.type_text() }}) as customer_snapshot_id,
        *
    from last_orders
)

select * from final
