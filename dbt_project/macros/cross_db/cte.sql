{#- Hints on whether a CTE is computed once or inlined into each reader; without one the
    engine decides, and DuckDB 2 does not always decide well (see both macros). -#}

{#- `with name as {{ materialized() }} (...)`: compute a CTE read by several others once.
    For a CTE that does real work (joins, aggregates) which DuckDB might otherwise inline
    into every reader; engines without the hint ignore it. -#}
{% macro materialized() -%}
    {{ return(adapter.dispatch('materialized', 'retention')()) }}
{%- endmacro %}

{% macro default__materialized() -%}
{%- endmacro %}

{% macro duckdb__materialized() -%}
    materialized
{%- endmacro %}

{#- `with name as {{ not_materialized() }} (...)`: for a CTE that only selects (and filters
    or renames) from a stored table and is read more than once. DuckDB materialises it by
    default: a full copy of what it selects. Inlined, each reader scans the stored table
    with only its own columns and filters, which is faster and keeps the copy out of memory.
    At 1M customers: ml_customer_features 14.0 s -> 12.4 s, int_order_churn_outcomes
    6.3 -> 5.1, churn_profiles 8.1 -> 7.4. Not for a CTE joined to itself on a small table
    (int_orders_converted's FX rates: 2.6 -> 4.1 s inlined). Engines without the syntax
    decide themselves. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'retention')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}
