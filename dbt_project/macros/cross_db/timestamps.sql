{#- Timestamps and dates. Every engine-specific expression of the project is in macros/cross_db,
    dispatched so that a Spark (or other) profile only needs its own variant here. -#}

{#- An ISO 8601 string (any offset) -> timestamp without time zone, in UTC. -#}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expression) -%}
    cast(try_cast(nullif(trim({{ expression }}), '') as timestamptz) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__to_utc_timestamp(expression) -%}
    {#- Spark parses the offset; the session time zone must be UTC (spark.sql.session.timeZone) -#}
    try_cast(nullif(trim({{ expression }}), '') as timestamp)
{%- endmacro %}

{#- Epoch milliseconds (text or number) -> UTC timestamp. -#}
{% macro epoch_ms_to_timestamp(expression) -%}
    {{ return(adapter.dispatch('epoch_ms_to_timestamp', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__epoch_ms_to_timestamp(expression) -%}
    epoch_ms(try_cast({{ expression }} as bigint))
{%- endmacro %}

{% macro spark__epoch_ms_to_timestamp(expression) -%}
    timestamp_millis(try_cast({{ expression }} as bigint))
{%- endmacro %}

{#- date + n days -> date -#}
{% macro add_days(date_expression, days) -%}
    {{ return(adapter.dispatch('add_days', 'retention')(date_expression, days)) }}
{%- endmacro %}

{% macro default__add_days(date_expression, days) -%}
    cast(cast({{ date_expression }} as date) + cast({{ days }} as integer) as date)
{%- endmacro %}

{% macro spark__add_days(date_expression, days) -%}
    date_add(cast({{ date_expression }} as date), cast({{ days }} as int))
{%- endmacro %}

{#- whole days from start to end (dates or timestamps, by calendar date) -#}
{% macro days_between(start_expression, end_expression) -%}
    {{ return(adapter.dispatch('days_between', 'retention')(start_expression, end_expression)) }}
{%- endmacro %}

{% macro default__days_between(start_expression, end_expression) -%}
    date_diff('day', cast({{ start_expression }} as date), cast({{ end_expression }} as date))
{%- endmacro %}

{% macro spark__days_between(start_expression, end_expression) -%}
    datediff(cast({{ end_expression }} as date), cast({{ start_expression }} as date))
{%- endmacro %}

{#- fractional days between two timestamps (delivery times) -#}
{% macro fractional_days_between(start_expression, end_expression) -%}
    {{ return(adapter.dispatch('fractional_days_between', 'retention')(start_expression, end_expression)) }}
{%- endmacro %}

{% macro default__fractional_days_between(start_expression, end_expression) -%}
    (epoch({{ end_expression }}) - epoch({{ start_expression }})) / 86400.0
{%- endmacro %}

{% macro spark__fractional_days_between(start_expression, end_expression) -%}
    (unix_timestamp({{ end_expression }}) - unix_timestamp({{ start_expression }})) / 86400.0
{%- endmacro %}

{#- first day of the month -> date -#}
{% macro month_start(expression) -%}
    {{ return(adapter.dispatch('month_start', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__month_start(expression) -%}
    cast(date_trunc('month', cast({{ expression }} as date)) as date)
{%- endmacro %}

{% macro spark__month_start(expression) -%}
    trunc(cast({{ expression }} as date), 'MM')
{%- endmacro %}

{#- first day of month + n months -> date -#}
{% macro add_months(date_expression, months) -%}
    {{ return(adapter.dispatch('add_months', 'retention')(date_expression, months)) }}
{%- endmacro %}

{% macro default__add_months(date_expression, months) -%}
    cast(cast({{ date_expression }} as date) + to_months(cast({{ months }} as integer)) as date)
{%- endmacro %}

{% macro spark__add_months(date_expression, months) -%}
    add_months(cast({{ date_expression }} as date), cast({{ months }} as int))
{%- endmacro %}

{#- whole calendar months between two dates (month of end minus month of start); portable -#}
{% macro months_between_dates(start_expression, end_expression) -%}
    (
        (extract(year from cast({{ end_expression }} as date)) - extract(year from cast({{ start_expression }} as date))) * 12
        + extract(month from cast({{ end_expression }} as date)) - extract(month from cast({{ start_expression }} as date))
    )
{%- endmacro %}

{#- a full select statement of one row per day: <column_name> from start to end inclusive -#}
{% macro date_series(start_expression, end_expression, column_name='date_day') -%}
    {{ return(adapter.dispatch('date_series', 'retention')(start_expression, end_expression, column_name)) }}
{%- endmacro %}

{% macro default__date_series(start_expression, end_expression, column_name) -%}
    select cast(generated.{{ column_name }} as date) as {{ column_name }}
    from (
        select unnest(generate_series(
            cast({{ start_expression }} as timestamp), cast({{ end_expression }} as timestamp), interval 1 day
        )) as {{ column_name }}
    ) as generated
{%- endmacro %}

{% macro spark__date_series(start_expression, end_expression, column_name) -%}
    select explode(sequence(cast({{ start_expression }} as date), cast({{ end_expression }} as date), interval 1 day))
        as {{ column_name }}
{%- endmacro %}

{#- a full select statement of one row per integer from start to end inclusive -#}
{% macro integer_series(start_expression, end_expression, column_name='n') -%}
    {{ return(adapter.dispatch('integer_series', 'retention')(start_expression, end_expression, column_name)) }}
{%- endmacro %}

{% macro default__integer_series(start_expression, end_expression, column_name) -%}
    select cast(unnest(generate_series(
        cast({{ start_expression }} as bigint), cast({{ end_expression }} as bigint)
    )) as integer) as {{ column_name }}
{%- endmacro %}

{% macro spark__integer_series(start_expression, end_expression, column_name) -%}
    select explode(sequence(cast({{ start_expression }} as int), cast({{ end_expression }} as int))) as {{ column_name }}
{%- endmacro %}

{#- When this dbt invocation started, as a timestamp literal: the same value in every model of
    one build, a new one in the next. Incremental models store it per row (`built_at`), so a
    test can tell the rows the latest build wrote from older ones (test unique_in_latest_build). -#}
{% macro build_started_at() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}
