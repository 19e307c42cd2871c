{{ config(materialized='incremental', unique_key='order_id') }}
{%- set lines_schema = {'orderLine': [{
    'lineNumber': 'text',
    'item': {'productName': 'text', 'sku': 'text'},
    'charges': {'charge': [{
        'chargeType': 'text', 'chargeName': 'text', 'chargeAmount': {'currency': 'text', 'amount': 'text'},
        'tax': {'taxName': 'text', 'taxAmount': {'currency': 'text', 'amount': 'text'}},
    }]},
    'orderLineStatuses': {'orderLineStatus': [{'status': 'text'}]},
    'orderLineQuantity': {'unitOfMeasurement': 'text', 'amount': 'text'},
    'statusDate': 'text',
}]} -%}

with

source as (
    {{ retention.incremental_source(source('walmart', 'walmart_orders'), [q('purchaseOrderId')]) }}
),

latest as (
    select
        {{ q('purchaseOrderId') }} as order_id,
        {{ q('orderLines') }} as order_lines,
        _loaded_at,
        {{ retention.latest_version_rank([q('purchaseOrderId')]) }} as version_rank
    from source
),

lines as (
    select
        trim(order_id) as order_id,
        {{ retention.explode(retention.json_to_struct('order_lines', lines_schema) ~ '.orderLine') }} as order_line,
        _loaded_at as loaded_at
    from latest
    where version_rank = 1
),

line_fields as (
    select
        order_id,
        order_line.lineNumber as line_number,
        order_line.item.sku as item_sku,
        order_line.item.productName as product_name,
        order_line.orderLineQuantity.amount as quantity_text,
        order_line.statusDate as status_date,
        {{ retention.array_element('order_line.orderLineStatuses.orderLineStatus', 1) }}.status as status_text,
        order_line.charges.charge as charge_list,
        loaded_at
    from lines
),

charges as (
    select
        order_id,
        line_number,
        {{ retention.explode('charge_list') }} as charge
    from line_fields
),

charge_totals as (
    select
        order_id,
        line_number,
        max(upper(charge.chargeAmount.currency)) as currency,
        sum(case when upper(charge.chargeType) = 'PRODUCT' then {{ retention.to_amount('charge.chargeAmount.amount') }} else 0 end)
            as product_amount,
        sum(case when upper(charge.chargeType) = 'SHIPPING' then {{ retention.to_amount('charge.chargeAmount.amount') }} else 0 end)
            as shipping_amount,
        sum(coalesce({{ retention.to_amount('charge.tax.taxAmount.amount') }}, 0)) as tax_amount,
        sum(
            case
                when upper(charge.chargeType) in ('DISCOUNT', 'PROMOTION')
                    then abs({{ retention.to_amount('charge.chargeAmount.amount') }})
                else 0
            end
        ) as discount_amount
    from charges
    group by order_id, line_number
),

renamed as (
    select
        line_fields.order_id || ':' || line_fields.line_number as order_line_id,
        line_fields.order_id,
        line_fields.line_number,
        nullif(trim(line_fields.item_sku), '') as sku,
        line_fields.product_name,
        cast(coalesce({{ retention.try_cast('line_fields.quantity_text', 'decimal(18, 4)') }}, 1) as integer) as quantity,
        {{ retention.epoch_ms_to_timestamp('line_fields.status_date') }} as status_at,
        lower(line_fields.status_text) as line_status,
        charge_totals.currency,
        coalesce(charge_totals.product_amount, 0) as product_amount,
        coalesce(charge_totals.shipping_amount, 0) as shipping_amount,
        coalesce(charge_totals.tax_amount, 0) as tax_amount,
        coalesce(charge_totals.discount_amount, 0) as discount_amount,
        cast(coalesce(charge_totals.product_amount, 0) - coalesce(charge_totals.discount_amount, 0) as decimal(18, 2))
            as line_amount,
        line_fields.loaded_at
    from line_fields
    left join charge_totals
        on line_fields.order_id = charge_totals.order_id
        and line_fields.line_number = charge_totals.line_number
)

select * from renamed
