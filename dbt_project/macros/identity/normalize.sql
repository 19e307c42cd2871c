{#- Normalisation of the identity match keys (F8). Portable: built on the cross_db macros. -#}

{#- lowercase, trimmed; empty -> null -#}
{% macro normalize_email(expression) -%}
    nullif(lower(trim({{ expression }})), '')
{%- endmacro %}

{#- true for marketplace relay / masked addresses (var relay_email_pattern); such an address
    identifies an account on one marketplace, never a person, so it is never a match key -#}
{% macro is_relay_email(normalized_email) -%}
    coalesce({{ retention.regexp_matches(normalized_email, var('relay_email_pattern')) }}, false)
{%- endmacro %}

{#- markup and accents off, words in alphabetical order (so "Sato Yui" = "Yui Sato", as
    family-name-first scripts arrive either way round), then letters and digits only,
    lowercase: " Anna-Lena  O'Brien " -> "annalenaobrien", "<b>Zoë</b>" -> "zoe"; null when
    nothing is left -#}
{% macro normalize_name(expression) -%}
    {%- set without_markup = retention.regexp_replace_all(expression, '<[^>]*>', '') -%}
    {%- set plain = 'lower(' ~ retention.strip_accents('trim(' ~ without_markup ~ ')') ~ ')' -%}
    nullif({{ retention.regexp_replace_all(retention.sort_words(plain), '[^\\p{L}\\p{N}]', '') }}, '')
{%- endmacro %}

{#- the whitespace-separated words of a text in alphabetical order, joined by spaces -#}
{% macro sort_words(expression) -%}
    {{ return(adapter.dispatch('sort_words', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__sort_words(expression) -%}
    array_to_string(list_sort(string_split_regex(trim({{ expression }}), '\s+')), ' ')
{%- endmacro %}

{% macro spark__sort_words(expression) -%}
    array_join(array_sort(split(trim({{ expression }}), '\\s+')), ' ')
{%- endmacro %}

{#- postal codes compare without spaces, dashes and case: "sw1a 1aa" = "SW1A1AA" -#}
{% macro normalize_postal_code(expression) -%}
    nullif({{ retention.regexp_replace_all('upper(trim(' ~ expression ~ '))', '[^A-Z0-9]', '') }}, '')
{%- endmacro %}

{#- E.164 ("+4915112345678") from a phone as typed plus the dialling rules of the customer's
    country (seed country_codes: calling_code, international_prefix, trunk_prefix, as text):
      "+49 151 1234567"                -> as given;
      "0049 151 ...", "011 49 151 ..." -> "00" or the country's own international prefix = "+";
      "0151 1234567" in DE              -> national trunk prefix (0; 1 in North America, 8 in
                                           Russia) dropped, calling code added;
      "49 151 1234567" in DE            -> 11+ digits starting with the calling code: already
                                           international without the "+";
      "151 1234567" in DE               -> calling code added.
    Countries without a trunk prefix (Italy, Spain, Poland, ...) keep a leading 0. A "(0)"
    after the country code ("+44 (0)20 ...") is dropped. Null when the result does not have
    7 to 15 digits, or a national number has no known country. -#}
{% macro normalize_phone_e164(phone, calling_code, international_prefix, trunk_prefix) -%}
    {%- set cleaned = retention.regexp_replace_all(phone, '\\(0\\)', '') -%}
    {%- set digits = retention.regexp_replace_all(cleaned, '[^0-9]', '') -%}
    {%- set number -%}
        case
            when ltrim({{ phone }}) like '+%' then '+' || {{ digits }}
            when coalesce({{ international_prefix }}, '') <> '' and {{ digits }} like ({{ international_prefix }} || '%')
                then '+' || substr({{ digits }}, length({{ international_prefix }}) + 1)
            when {{ digits }} like '00%' then '+' || substr({{ digits }}, 3)
            when {{ calling_code }} is null then null
            when coalesce({{ trunk_prefix }}, '') <> '' and {{ digits }} like ({{ trunk_prefix }} || '%')
                then '+' || {{ calling_code }} || substr({{ digits }}, length({{ trunk_prefix }}) + 1)
            when {{ digits }} like ({{ calling_code }} || '%') and length({{ digits }}) >= 11 then '+' || {{ digits }}
            else '+' || {{ calling_code }} || {{ digits }}
        end
    {%- endset -%}
    case when length({{ number }}) between 8 and 16 then {{ number }} end
{%- endmacro %}

{#- accents off ("Zoë" -> "Zoe"), so names typed with and without them match -#}
{% macro strip_accents(expression) -%}
    {{ return(adapter.dispatch('strip_accents', 'retention')(expression)) }}
{%- endmacro %}

{% macro default__strip_accents(expression) -%}
    strip_accents({{ expression }})
{%- endmacro %}

{% macro spark__strip_accents(expression) -%}
    translate(
        {{ expression }},
        'ÀÁÂÃÄÅàáâãäåÈÉÊËèéêëÌÍÎÏìíîïÒÓÔÕÖØòóôõöøÙÚÛÜùúûüÝýÿÑñÇçŁłŚśŹźŻżĆćŃńĘęĄąŠšŽžÐð',
        'AAAAAAaaaaaaEEEEeeeeIIIIiiiiOOOOOOooooooUUUUuuuuYyyNnCcLlSsZzZzCcNnEeAaSsZzDd'
    )
{%- endmacro %}
