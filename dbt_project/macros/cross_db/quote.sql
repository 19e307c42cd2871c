{#- A native column name that needs quoting ("amazon-order-id", "segments.date"): double
    quotes on DuckDB, backticks on Spark, whatever the adapter uses. -#}
{% macro q(name) -%}
    {{ adapter.quote(name) }}
{%- endmacro %}
