{#- Custom schemas are used as given (staging, intermediate, marts, reference) rather than
    prefixed with the target schema, so analysts and the ML code see stable names.
    A rebuild for a past as-of date passes var schema_prefix (e.g. 'asof_20261001_') so that
    its views land beside today's, never over them. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set prefix = var('schema_prefix', '') -%}
    {%- if custom_schema_name is none -%}
        {{ prefix }}{{ target.schema }}
    {%- else -%}
        {{ prefix }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
