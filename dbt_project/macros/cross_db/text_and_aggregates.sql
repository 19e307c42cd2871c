{#- Text functions and aggregates whose spelling differs between engines. -#}

{% macro try_cast(expression, data_type) -%}
    {{ return(adapter.dispatch('try_cast', 'retention')(expression, data_type)) }}
{%- endmacro %}

{% macro default__try_cast(expression, data_type) -%}
    try_cast(nullif(trim(cast({{ expression }} as {{ retention.type_text() }})), '') as {{ data_type }})
{%- endmacro %}

{% macro spark__try_cast(expression, data_type) -%}
    try_cast(nullif(trim(cast({{ expression }} as string)), '') as {{ data_type }})
{%- endmacro %}

{#- an amount as text -> decimal with 2 decimals (money) -#}
{% macro to_amount(expression) -%}
    cast({{ retention.try_cast(expression, 'decimal(18, 4)') }} as decimal(18, 2))
{%- endmacro %}

{% macro regexp_replace_all(expression, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'retention')(expression, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expression, pattern, replacement) -%}
    regexp_replace({{ expression }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement }}')
{%- endmacro %}

{% macro regexp_matches(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_matches', 'retention')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_matches(expression, pattern) -%}
    regexp_matches({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__regexp_matches(expression, pattern) -%}
    ({{ expression }} rlike '{{ pattern | replace("\\", "\\\\") }}')
{%- endmacro %}

{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    quantile_cont({{ expression }}, 0.5)
{%- endmacro %}

{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}

{#- sorted, distinct, comma-separated list of the values -#}
{% macro string_agg_distinct(expression, separator=', ') -%}
    {{ return(adapter.dispatch('string_agg_distinct', 'retention')(expression, separator)) }}
{%- endmacro %}

{% macro default__string_agg_distinct(expression, separator) -%}
    string_agg(distinct {{ expression }}, '{{ separator }}' order by {{ expression }})
{%- endmacro %}

{% macro spark__string_agg_distinct(expression, separator) -%}
    array_join(array_sort(collect_set({{ expression }})), '{{ separator }}')
{%- endmacro %}

{#- the value of `expression` on the row with the largest `order_by` within the group; on a tie
    the row with the largest `tie_breaker`, so the result never depends on row order -#}
{% macro arg_max(expression, order_by, tie_breaker=none) -%}
    {{ return(adapter.dispatch('arg_max', 'retention')(expression, order_by, tie_breaker)) }}
{%- endmacro %}

{% macro default__arg_max(expression, order_by, tie_breaker=none) -%}
    {%- if tie_breaker is none %}arg_max({{ expression }}, {{ order_by }})
    {%- else %}arg_max({{ expression }}, ({{ order_by }}, {{ tie_breaker }})){% endif -%}
{%- endmacro %}

{% macro spark__arg_max(expression, order_by, tie_breaker=none) -%}
    {%- if tie_breaker is none %}max_by({{ expression }}, {{ order_by }})
    {%- else %}max_by({{ expression }}, struct({{ order_by }}, {{ tie_breaker }})){% endif -%}
{%- endmacro %}

{% macro arg_min(expression, order_by) -%}
    {{ return(adapter.dispatch('arg_min', 'retention')(expression, order_by)) }}
{%- endmacro %}

{% macro default__arg_min(expression, order_by) -%}
    arg_min({{ expression }}, {{ order_by }})
{%- endmacro %}

{% macro spark__arg_min(expression, order_by) -%}
    min_by({{ expression }}, {{ order_by }})
{%- endmacro %}

{% macro hash_text(expression) -%}
    {{ return(adapter.dispatch('hash_text', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__hash_text(expression) -%}
    md5(cast({{ expression }} as {{ retention.type_text() }}))
{%- endmacro %}

{% macro spark__hash_text(expression) -%}
    md5(cast({{ expression }} as string))
{%- endmacro %}

{#- approximate distinct count (HyperLogLog): fixed memory per group, for wide group-bys -#}
{% macro approx_distinct_count(expression) -%}
    {{ return(adapter.dispatch('approx_distinct_count', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__approx_distinct_count(expression) -%}
    approx_count_distinct({{ expression }})
{%- endmacro %}

{#- the text type in casts: varchar (DuckDB, Postgres, ...) or string (Spark) -#}
{% macro type_text() -%}
    {{ return(adapter.dispatch('type_text', 'retention')()) }}
{%- endmacro %}

{% macro default__type_text() -%}
    varchar
{%- endmacro %}

{% macro spark__type_text() -%}
    string
{%- endmacro %}

{#-
    Aggregate fingerprint of a group's rows for change detection in incremental models: the
    sum of `row_hash` of the given columns per row, so the row order does not matter. Two
    builds give the same value for the same rows; any changed, added or removed row changes
    it (up to hash collisions, about 1 in 2^64).
-#}
{% macro fingerprint(columns) -%}
    {{ return(adapter.dispatch('fingerprint', 'retention')(columns)) }}
{%- endmacro %}

{% macro default__fingerprint(columns) -%}
    sum(cast({{ retention.row_hash(columns) }} as hugeint))
{%- endmacro %}

{% macro spark__fingerprint(columns) -%}
    sum(cast({{ retention.row_hash(columns) }} as decimal(38, 0)))
{%- endmacro %}

{#-
    64-bit hash of one row's columns, to tell whether a built row still matches its inputs
    without carrying every column through the join: rows with equal values (nulls included)
    hash equal; a changed row hashes equal only by collision (about 1 in 2^64). Both sides
    must pass the same expressions with the same types.
-#}
{% macro row_hash(columns) -%}
    {{ return(adapter.dispatch('row_hash', 'retention')(columns)) }}
{%- endmacro %}

{% macro default__row_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__row_hash(columns) -%}
    xxhash64({{ columns | join(', ') }})
{%- endmacro %}

{#- every column of `alias` (a reference to `relation`) but `columns`: for passing a model's
    columns through without its bookkeeping columns (built_at) -#}
{% macro star_except(relation, alias, columns) -%}
    {{ return(adapter.dispatch('star_except', 'retention')(relation, alias, columns)) }}
{%- endmacro %}

{% macro default__star_except(relation, alias, columns) -%}
    {{ alias }}.* exclude ({{ columns | join(', ') }})
{%- endmacro %}

{% macro spark__star_except(relation, alias, columns) -%}
    {%- set kept = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) if column.name not in columns -%}
        {%- do kept.append(alias ~ '.' ~ column.name) -%}
    {%- endfor -%}
    {{ kept | join(', ') }}
{%- endmacro %}
