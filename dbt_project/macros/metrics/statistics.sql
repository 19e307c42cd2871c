{#- Wilson score interval for a proportion successes / n (z from var churn_confidence_z). -#}

{% macro wilson_lower(successes, n, z=none) -%}
    {%- set z = z if z is not none else var('churn_confidence_z') -%}
    case when {{ n }} > 0 then
        (
            (cast({{ successes }} as double) / {{ n }}) + {{ z }} * {{ z }} / (2.0 * {{ n }})
            - {{ z }} * sqrt(
                (cast({{ successes }} as double) / {{ n }}) * (1 - cast({{ successes }} as double) / {{ n }}) / {{ n }}
                + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ n }})
    end
{%- endmacro %}

{% macro wilson_upper(successes, n, z=none) -%}
    {%- set z = z if z is not none else var('churn_confidence_z') -%}
    case when {{ n }} > 0 then
        (
            (cast({{ successes }} as double) / {{ n }}) + {{ z }} * {{ z }} / (2.0 * {{ n }})
            + {{ z }} * sqrt(
                (cast({{ successes }} as double) / {{ n }}) * (1 - cast({{ successes }} as double) / {{ n }}) / {{ n }}
                + {{ z }} * {{ z }} / (4.0 * {{ n }} * {{ n }})
            )
        ) / (1 + {{ z }} * {{ z }} / {{ n }})
    end
{%- endmacro %}

{#- safe division: null when the denominator is 0 or null -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as double) / nullif({{ denominator }}, 0))
{%- endmacro %}
