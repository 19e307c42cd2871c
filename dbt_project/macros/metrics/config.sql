{#- Validated access to the configuration vars (dbt_project.yml documents the defaults). -#}

{#- the global inactivity threshold in days: churn_threshold_days, else the churn_preset -#}
{% macro churn_base_threshold_days() -%}
    {%- set override = var('churn_threshold_days') -%}
    {%- if override is not none -%}
        {%- if override | int <= 0 -%}
            {{ exceptions.raise_compiler_error("var churn_threshold_days must be a positive number of days, got " ~ override) }}
        {%- endif -%}
        {{ return(override | int) }}
    {%- endif -%}
    {%- set preset = var('churn_preset') | int -%}
    {%- if preset not in [60, 90, 180] -%}
        {{ exceptions.raise_compiler_error("var churn_preset must be 60, 90 or 180 (or set churn_threshold_days), got " ~ var('churn_preset')) }}
    {%- endif -%}
    {{ return(preset) }}
{%- endmacro %}

{#- SQL case expression: the category override for a category type column, else null -#}
{% macro category_churn_days(category_type_column) -%}
    {%- set overrides = var('category_churn_days') or {} -%}
    {%- if overrides | length == 0 -%}
        cast(null as integer)
    {%- else -%}
        case {{ category_type_column }}
            {%- for category_type, days in overrides.items() %}
            when '{{ category_type }}' then {{ days | int }}
            {%- endfor %}
        end
    {%- endif -%}
{%- endmacro %}

{#- the inactivity threshold by category override or the global threshold (no personal rule) -#}
{% macro base_churn_threshold_sql(category_type_column) -%}
    coalesce({{ retention.category_churn_days(category_type_column) }}, {{ retention.churn_base_threshold_days() }})
{%- endmacro %}

{#- the as-of date (one value) as a scalar subquery -#}
{% macro as_of_date() -%}
    (select as_of_date from {{ ref('int_as_of_dates_resolved') }})
{%- endmacro %}

{#- RFM frequency score 1..5 from an order count using the fixed cut points -#}
{% macro rfm_frequency_score(order_count_column) -%}
    {%- set cuts = var('rfm_frequency_cut_points') -%}
    {%- if cuts | length != 4 -%}
        {{ exceptions.raise_compiler_error("var rfm_frequency_cut_points needs 4 ascending order counts (lower bounds of scores 2..5), got " ~ cuts) }}
    {%- endif -%}
    case
        when {{ order_count_column }} >= {{ cuts[3] }} then 5
        when {{ order_count_column }} >= {{ cuts[2] }} then 4
        when {{ order_count_column }} >= {{ cuts[1] }} then 3
        when {{ order_count_column }} >= {{ cuts[0] }} then 2
        else 1
    end
{%- endmacro %}

{#- delivery days -> bucket label from var delivery_day_buckets, e.g. 0-7, 8-14, 15-20, over_20 -#}
{% macro delivery_time_bucket(days_column) -%}
    {%- set cuts = var('delivery_day_buckets') -%}
    case
        when {{ days_column }} is null then 'unknown'
        {%- set lower = namespace(value=0) %}
        {%- for cut in cuts %}
        when {{ days_column }} <= {{ cut }} then '{{ lower.value }}-{{ cut }}_days'
        {%- set lower.value = cut + 1 %}
        {%- endfor %}
        else 'over_{{ cuts[-1] }}_days'
    end
{%- endmacro %}

{#- email engagement trend from the open rate (opens per send) in a recent window against the
    window before it: not_emailed (no sends in either), none (no opens in either), declining
    (recent rate at most half the prior one), rising (at least double, or opens only
    recently), stable otherwise. Rates make windows of different lengths comparable. -#}
{% macro engagement_trend(recent_opens, recent_sends, prior_opens, prior_sends) -%}
    {%- set recent_rate = '(cast(coalesce(' ~ recent_opens ~ ', 0) as double) / nullif(' ~ recent_sends ~ ', 0))' -%}
    {%- set prior_rate = '(cast(coalesce(' ~ prior_opens ~ ', 0) as double) / nullif(' ~ prior_sends ~ ', 0))' -%}
    case
        when coalesce({{ recent_sends }}, 0) + coalesce({{ prior_sends }}, 0) = 0 then 'not_emailed'
        when coalesce({{ recent_opens }}, 0) + coalesce({{ prior_opens }}, 0) = 0 then 'none'
        when coalesce({{ recent_sends }}, 0) = 0 or coalesce({{ prior_sends }}, 0) = 0 then 'stable'
        when {{ recent_rate }} <= 0.5 * {{ prior_rate }} then 'declining'
        when {{ recent_rate }} >= 2 * {{ prior_rate }} then 'rising'
        else 'stable'
    end
{%- endmacro %}

{#- the churn driver dimensions (var churn_dimensions): columns of int_order_churn_outcomes -#}
{% macro churn_dimensions() -%}
    {{ return(var('churn_dimensions')) }}
{%- endmacro %}

{#- the platforms of the project, for per-platform flags (cheaper than count(distinct)) -#}
{% macro platforms() -%}
    {{ return(['amazon', 'ebay', 'generic', 'shopify', 'walmart']) }}
{%- endmacro %}

{#- platforms used, from per-platform 0/1 flag columns named <prefix><platform>:
    the comma separated list (alphabetical) and the count -#}
{% macro platform_list(prefix) -%}
    concat_ws(', '
        {%- for platform in retention.platforms() %},
        case when {{ prefix }}{{ platform }} = 1 then '{{ platform }}' end
        {%- endfor %}
    )
{%- endmacro %}

{% macro platform_count(prefix) -%}
    (
        {%- for platform in retention.platforms() %}
        {{ prefix }}{{ platform }}{{ ' +' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}

{#- Environment variable RETENTION_ML_TRAINING_SNAPSHOTS (``value``: what the model read) as a
    boolean, true when unset; anything but true/false is an error. An environment variable,
    not a dbt var: dbt parses the whole project again when any var changes (5 s at every
    switch between a training night and a scoring night), but only the files that read an
    environment variable when that changes. -#}
{% macro ml_training_snapshots(value) -%}
    {%- if value | string | trim | lower in ['true', 'false'] -%}
        {{ return(value | string | trim | lower == 'true') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("RETENTION_ML_TRAINING_SNAPSHOTS must be true or false, got " ~ value) }}
{%- endmacro %}

{#- true when var as_of_date pins the reference date (null, '' or 'null': the latest data) -#}
{% macro as_of_date_is_pinned() -%}
    {%- set value = var('as_of_date') -%}
    {{ return(value is not none and value | string | trim not in ('', 'None', 'null')) }}
{%- endmacro %}

{#- The materialization of a model that is incremental while the as-of date follows the data
    (it then only moves forward and every order is in scope) and a plain table while
    as_of_date is pinned (an earlier date drops rows, which a merge cannot do). -#}
{% macro incremental_unless_as_of_pinned() -%}
    {{ return('table' if retention.as_of_date_is_pinned() else 'incremental') }}
{%- endmacro %}
