"""Static reference data for the demo generator: countries, cities, names, catalogue, carriers.

Everything here is plain data. Realism notes: postal codes follow each country's format,
phone numbers use mobile ranges that `phonenumbers` accepts as valid for the country, and
each city carries its IANA time zone so shop timestamps get the buyer's local offset.
"""

from __future__ import annotations

PLATFORMS = ("shopify", "amazon", "ebay", "walmart")
SHOPIFY, AMAZON, EBAY, WALMART = range(4)

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "JPY", "SEK", "PLN", "MXN")
# Reference level (USD per unit) the FX random walk reverts to, and its daily volatility.
FX_LEVEL = {"USD": 1.0, "EUR": 1.085, "GBP": 1.265, "CAD": 0.735, "AUD": 0.660, "JPY": 0.00680, "SEK": 0.0950, "PLN": 0.2500, "MXN": 0.0550}
FX_VOL = {"USD": 0.0, "EUR": 0.0040, "GBP": 0.0042, "CAD": 0.0035, "AUD": 0.0050, "JPY": 0.0050, "SEK": 0.0055, "PLN": 0.0050, "MXN": 0.0065}
ZERO_DECIMAL = {"JPY"}

# code: name, currency, region, weight, name pool, amazon (channel, relay tld, currency),
#       ebay currency, tax rate added on top of prices (US/CA sales tax; VAT is included elsewhere)
COUNTRIES: dict[str, dict] = {
    "US": dict(name="United States", currency="USD", region="North America", weight=0.37, pool="en",
               amazon=("Amazon.com", "com", "USD"), ebay="USD", tax=0.0725),
    "GB": dict(name="United Kingdom", currency="GBP", region="Europe", weight=0.10, pool="en",
               amazon=("Amazon.co.uk", "co.uk", "GBP"), ebay="GBP", tax=0.0),
    "DE": dict(name="Germany", currency="EUR", region="Europe", weight=0.09, pool="de",
               amazon=("Amazon.de", "de", "EUR"), ebay="EUR", tax=0.0),
    "FR": dict(name="France", currency="EUR", region="Europe", weight=0.06, pool="fr",
               amazon=("Amazon.fr", "fr", "EUR"), ebay="EUR", tax=0.0),
    "IT": dict(name="Italy", currency="EUR", region="Europe", weight=0.04, pool="it",
               amazon=("Amazon.it", "it", "EUR"), ebay="EUR", tax=0.0),
    "ES": dict(name="Spain", currency="EUR", region="Europe", weight=0.04, pool="es",
               amazon=("Amazon.es", "es", "EUR"), ebay="EUR", tax=0.0),
    "NL": dict(name="Netherlands", currency="EUR", region="Europe", weight=0.03, pool="nl",
               amazon=("Amazon.nl", "nl", "EUR"), ebay="EUR", tax=0.0),
    "IE": dict(name="Ireland", currency="EUR", region="Europe", weight=0.01, pool="ie",
               amazon=("Amazon.co.uk", "co.uk", "GBP"), ebay="EUR", tax=0.0),
    "AT": dict(name="Austria", currency="EUR", region="Europe", weight=0.015, pool="de",
               amazon=("Amazon.de", "de", "EUR"), ebay="EUR", tax=0.0),
    "BE": dict(name="Belgium", currency="EUR", region="Europe", weight=0.015, pool="nl",
               amazon=("Amazon.com.be", "com.be", "EUR"), ebay="EUR", tax=0.0),
    "SE": dict(name="Sweden", currency="SEK", region="Europe", weight=0.015, pool="sv",
               amazon=("Amazon.se", "se", "SEK"), ebay="USD", tax=0.0),
    "PL": dict(name="Poland", currency="PLN", region="Europe", weight=0.015, pool="pl",
               amazon=("Amazon.pl", "pl", "PLN"), ebay="PLN", tax=0.0),
    "CA": dict(name="Canada", currency="CAD", region="North America", weight=0.06, pool="en",
               amazon=("Amazon.ca", "ca", "CAD"), ebay="CAD", tax=0.13),
    "AU": dict(name="Australia", currency="AUD", region="Asia Pacific", weight=0.05, pool="en",
               amazon=("Amazon.com.au", "com.au", "AUD"), ebay="AUD", tax=0.0),
    "JP": dict(name="Japan", currency="JPY", region="Asia Pacific", weight=0.05, pool="ja",
               amazon=("Amazon.co.jp", "co.jp", "JPY"), ebay="USD", tax=0.0),
    "MX": dict(name="Mexico", currency="MXN", region="Latin America", weight=0.02, pool="es",
               amazon=("Amazon.com.mx", "com.mx", "MXN"), ebay="USD", tax=0.0),
}
COUNTRY_CODES = tuple(COUNTRIES)
ALPHA3 = {"US": "USA"}
EUROPE = tuple(c for c, v in COUNTRIES.items() if v["region"] == "Europe")

# Primary-platform mix per country (Walmart Marketplace is US only). With the country
# weights this gives roughly Shopify 40%, Amazon 35%, eBay 15%, Walmart 10% of persons.
PLATFORM_WEIGHTS = {
    "US": (0.33, 0.30, 0.11, 0.26),
    "_": (0.46, 0.38, 0.16, 0.0),
}

# Amazon order-id prefixes by marketplace region (the 3 leading digits of 3-7-7 ids).
AMAZON_PREFIX = {"com": ("111", "112", "113", "114"), "co.jp": ("249", "250", "503"), "_": ("302", "303", "304", "305", "306")}

# Mobile number ranges per country: (country calling code, national prefixes, national length,
# international grouping, national grouping, trunk prefix, international dialling prefix).
# Grouping strings use '#' for a digit; every prefix was checked with phonenumbers.is_valid_number.
PHONES: dict[str, tuple] = {
    "US": ("1", ("212", "310", "312", "415", "617", "702", "713", "206", "305", "404", "646", "718", "503", "512", "602", "917"), 10,
           "###-###-####", "(###) ###-####", "", "011"),
    "CA": ("1", ("416", "604", "514", "403", "613", "647", "905", "780"), 10, "###-###-####", "(###) ###-####", "", "011"),
    "GB": ("44", ("740", "741", "742", "743", "744", "771", "772", "780", "781", "790", "795", "796", "797", "798"), 10,
           "#### ######", "#### ######", "0", "00"),
    "DE": ("49", ("151", "152", "160", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179"), 11,
           "### ########", "### ########", "0", "00"),
    "FR": ("33", ("60", "61", "62", "64", "65", "66", "67", "68", "75", "76", "77", "78"), 9, "# ## ## ## ##", "# ## ## ## ##", "0", "00"),
    "IT": ("39", ("320", "324", "327", "328", "329", "333", "334", "338", "340", "345", "347", "348", "349", "380", "388", "393"), 10,
           "### ### ####", "### ### ####", "", "00"),
    "ES": ("34", ("6",), 9, "### ## ## ##", "### ## ## ##", "", "00"),
    "NL": ("31", ("61", "62", "63", "64", "65"), 9, "# ########", "# ########", "0", "00"),
    "IE": ("353", ("83", "85", "86", "87", "89"), 9, "## ### ####", "## ### ####", "0", "00"),
    "AT": ("43", ("664", "676", "699", "650", "660"), 11, "### ########", "### ########", "0", "00"),
    "BE": ("32", ("470", "471", "472", "473", "474", "475", "476", "477", "478", "479", "490", "491", "493", "495", "496", "497", "498", "499"), 9,
           "### ## ## ##", "### ## ## ##", "0", "00"),
    "SE": ("46", ("70", "72", "73", "76", "79"), 9, "## ### ## ##", "##-### ## ##", "0", "00"),
    "PL": ("48", ("50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88"), 9, "### ### ###", "### ### ###", "", "00"),
    "AU": ("61", ("400", "401", "402", "403", "404", "405", "406", "407", "408", "409", "410", "411", "412", "413", "414", "415",
                  "416", "417", "418", "419", "420", "421", "422", "423", "424", "425", "426", "427", "428", "429", "430", "431",
                  "432", "433", "434", "435", "438", "439", "447", "448", "449", "450", "451", "452", "455", "456", "457", "458"), 9,
           "### ### ###", "### ### ###", "0", "0011"),
    "JP": ("81", ("801", "802", "803", "804", "805", "806", "807", "808", "809", "901", "902", "903", "904", "905", "906", "907",
                  "908", "909", "701", "702", "703", "704", "705", "706", "707", "708", "709"), 10, "##-####-####", "##-####-####", "0", "010"),
    "MX": ("52", ("55", "33", "81"), 10, "## #### ####", "## #### ####", "", "00"),
}

# Cities: (city, province, province_code, postal format, postal prefixes, IANA zone, weight).
# Postal formats: "d{n}" prefix + n digits; "gb" outward + " 9AA"; "ca" FSA + " 9A9";
# "nl" 4 digits + " AA"; "jp" 3 digits + "-" + 4 digits; "se" 3 + " " + 2; "pl" "00-000";
# "ie" routing key + " A99A".
CITIES: dict[str, list[tuple]] = {
    "US": [
        ("New York", "New York", "NY", "d2", ("100", "101", "102"), "America/New_York", 9),
        ("Brooklyn", "New York", "NY", "d2", ("112",), "America/New_York", 5),
        ("Los Angeles", "California", "CA", "d2", ("900",), "America/Los_Angeles", 8),
        ("San Francisco", "California", "CA", "d2", ("941",), "America/Los_Angeles", 4),
        ("Chicago", "Illinois", "IL", "d2", ("606",), "America/Chicago", 6),
        ("Houston", "Texas", "TX", "d2", ("770",), "America/Chicago", 5),
        ("Austin", "Texas", "TX", "d2", ("787",), "America/Chicago", 3),
        ("Phoenix", "Arizona", "AZ", "d2", ("850",), "America/Phoenix", 4),
        ("Seattle", "Washington", "WA", "d2", ("981",), "America/Los_Angeles", 4),
        ("Portland", "Oregon", "OR", "d2", ("972",), "America/Los_Angeles", 2),
        ("Miami", "Florida", "FL", "d2", ("331",), "America/New_York", 4),
        ("Denver", "Colorado", "CO", "d2", ("802",), "America/Denver", 3),
        ("Boston", "Massachusetts", "MA", "d2", ("021",), "America/New_York", 4),
        ("Atlanta", "Georgia", "GA", "d2", ("303",), "America/New_York", 4),
        ("Philadelphia", "Pennsylvania", "PA", "d2", ("191",), "America/New_York", 4),
        ("Honolulu", "Hawaii", "HI", "d2", ("968",), "Pacific/Honolulu", 1),
    ],
    "GB": [
        ("London", None, None, "gb", ("SW1A", "EC1A", "N1", "E2", "SE1", "W1D", "NW3", "SW11"), "Europe/London", 12),
        ("Manchester", None, None, "gb", ("M1", "M4", "M14"), "Europe/London", 4),
        ("Birmingham", None, None, "gb", ("B1", "B5", "B15"), "Europe/London", 4),
        ("Leeds", None, None, "gb", ("LS1", "LS6"), "Europe/London", 3),
        ("Glasgow", None, None, "gb", ("G1", "G12"), "Europe/London", 3),
        ("Bristol", None, None, "gb", ("BS1", "BS8"), "Europe/London", 2),
        ("Edinburgh", None, None, "gb", ("EH1", "EH3"), "Europe/London", 2),
    ],
    "DE": [
        ("Berlin", None, None, "d2", ("101", "104", "120", "107"), "Europe/Berlin", 8),
        ("München", None, None, "d2", ("803", "804", "806"), "Europe/Berlin", 5),
        ("Hamburg", None, None, "d2", ("200", "221", "225"), "Europe/Berlin", 5),
        ("Köln", None, None, "d2", ("506", "509"), "Europe/Berlin", 4),
        ("Frankfurt am Main", None, None, "d2", ("603", "604"), "Europe/Berlin", 3),
        ("Stuttgart", None, None, "d2", ("701",), "Europe/Berlin", 3),
        ("Düsseldorf", None, None, "d2", ("402",), "Europe/Berlin", 2),
        ("Leipzig", None, None, "d2", ("041",), "Europe/Berlin", 2),
    ],
    "FR": [
        ("Paris", None, None, "d2", ("750",), "Europe/Paris", 10),
        ("Lyon", None, None, "d1", ("6900",), "Europe/Paris", 4),
        ("Marseille", None, None, "d2", ("130",), "Europe/Paris", 4),
        ("Toulouse", None, None, "d2", ("310",), "Europe/Paris", 3),
        ("Nice", None, None, "d2", ("060",), "Europe/Paris", 2),
        ("Nantes", None, None, "d2", ("440",), "Europe/Paris", 2),
        ("Bordeaux", None, None, "d2", ("330",), "Europe/Paris", 2),
        ("Lille", None, None, "d2", ("590",), "Europe/Paris", 2),
    ],
    "IT": [
        ("Milano", "Milano", "MI", "d2", ("201",), "Europe/Rome", 6),
        ("Roma", "Roma", "RM", "d2", ("001",), "Europe/Rome", 6),
        ("Torino", "Torino", "TO", "d2", ("101",), "Europe/Rome", 3),
        ("Napoli", "Napoli", "NA", "d2", ("801",), "Europe/Rome", 3),
        ("Bologna", "Bologna", "BO", "d2", ("401",), "Europe/Rome", 2),
        ("Firenze", "Firenze", "FI", "d2", ("501",), "Europe/Rome", 2),
    ],
    "ES": [
        ("Madrid", "Madrid", "M", "d2", ("280",), "Europe/Madrid", 7),
        ("Barcelona", "Barcelona", "B", "d2", ("080",), "Europe/Madrid", 6),
        ("Valencia", "Valencia", "V", "d2", ("460",), "Europe/Madrid", 3),
        ("Sevilla", "Sevilla", "SE", "d2", ("410",), "Europe/Madrid", 2),
        ("Málaga", "Málaga", "MA", "d2", ("290",), "Europe/Madrid", 2),
        ("Bilbao", "Bizkaia", "BI", "d2", ("480",), "Europe/Madrid", 2),
    ],
    "NL": [
        ("Amsterdam", None, None, "nl", ("10",), "Europe/Amsterdam", 5),
        ("Rotterdam", None, None, "nl", ("30",), "Europe/Amsterdam", 4),
        ("Utrecht", None, None, "nl", ("35",), "Europe/Amsterdam", 3),
        ("Den Haag", None, None, "nl", ("25",), "Europe/Amsterdam", 3),
        ("Eindhoven", None, None, "nl", ("56",), "Europe/Amsterdam", 2),
    ],
    "IE": [
        ("Dublin", None, None, "ie", ("D02", "D04", "D06", "D08"), "Europe/Dublin", 6),
        ("Cork", None, None, "ie", ("T12",), "Europe/Dublin", 2),
        ("Galway", None, None, "ie", ("H91",), "Europe/Dublin", 1),
    ],
    "AT": [
        ("Wien", None, None, "d1", ("101", "102", "103", "104", "105", "106", "107", "109", "110", "112"), "Europe/Vienna", 6),
        ("Graz", None, None, "d2", ("80",), "Europe/Vienna", 2),
        ("Linz", None, None, "d2", ("40",), "Europe/Vienna", 2),
        ("Salzburg", None, None, "d2", ("50",), "Europe/Vienna", 1),
    ],
    "BE": [
        ("Bruxelles", None, None, "d2", ("10",), "Europe/Brussels", 5),
        ("Antwerpen", None, None, "d2", ("20",), "Europe/Brussels", 3),
        ("Gent", None, None, "d2", ("90",), "Europe/Brussels", 2),
        ("Liège", None, None, "d2", ("40",), "Europe/Brussels", 2),
    ],
    "SE": [
        ("Stockholm", None, None, "se", ("111", "113", "114", "116", "118"), "Europe/Stockholm", 6),
        ("Göteborg", None, None, "se", ("411", "413", "416"), "Europe/Stockholm", 3),
        ("Malmö", None, None, "se", ("211", "214"), "Europe/Stockholm", 2),
        ("Uppsala", None, None, "se", ("753",), "Europe/Stockholm", 1),
    ],
    "PL": [
        ("Warszawa", None, None, "pl", ("00", "01", "02"), "Europe/Warsaw", 6),
        ("Kraków", None, None, "pl", ("30", "31"), "Europe/Warsaw", 3),
        ("Wrocław", None, None, "pl", ("50", "53"), "Europe/Warsaw", 2),
        ("Gdańsk", None, None, "pl", ("80",), "Europe/Warsaw", 2),
        ("Poznań", None, None, "pl", ("60", "61"), "Europe/Warsaw", 2),
        ("Łódź", None, None, "pl", ("90", "91"), "Europe/Warsaw", 2),
    ],
    "CA": [
        ("Toronto", "Ontario", "ON", "ca", ("M5V", "M4C", "M6K", "M5A"), "America/Toronto", 7),
        ("Montréal", "Quebec", "QC", "ca", ("H2X", "H3B", "H2T"), "America/Toronto", 4),
        ("Vancouver", "British Columbia", "BC", "ca", ("V6B", "V5K", "V6K"), "America/Vancouver", 4),
        ("Calgary", "Alberta", "AB", "ca", ("T2P", "T3A"), "America/Edmonton", 2),
        ("Ottawa", "Ontario", "ON", "ca", ("K1P", "K2P"), "America/Toronto", 2),
        ("Halifax", "Nova Scotia", "NS", "ca", ("B3H", "B3J"), "America/Halifax", 1),
    ],
    "AU": [
        ("Sydney", "New South Wales", "NSW", "d2", ("20",), "Australia/Sydney", 7),
        ("Melbourne", "Victoria", "VIC", "d2", ("30",), "Australia/Melbourne", 6),
        ("Brisbane", "Queensland", "QLD", "d2", ("40",), "Australia/Brisbane", 3),
        ("Perth", "Western Australia", "WA", "d2", ("60",), "Australia/Perth", 3),
        ("Adelaide", "South Australia", "SA", "d2", ("50",), "Australia/Adelaide", 2),
    ],
    "JP": [
        ("Tokyo", "Tokyo", "JP-13", "jp", ("100", "104", "106", "150", "160", "170"), "Asia/Tokyo", 8),
        ("Osaka", "Osaka", "JP-27", "jp", ("530", "542", "556"), "Asia/Tokyo", 4),
        ("Yokohama", "Kanagawa", "JP-14", "jp", ("220", "231"), "Asia/Tokyo", 3),
        ("Nagoya", "Aichi", "JP-23", "jp", ("450", "460"), "Asia/Tokyo", 2),
        ("Sapporo", "Hokkaido", "JP-01", "jp", ("060",), "Asia/Tokyo", 2),
        ("Fukuoka", "Fukuoka", "JP-40", "jp", ("810",), "Asia/Tokyo", 2),
    ],
    "MX": [
        ("Ciudad de México", "Ciudad de México", "CDMX", "d2", ("060", "031", "110"), "America/Mexico_City", 5),
        ("Guadalajara", "Jalisco", "JAL", "d2", ("441",), "America/Mexico_City", 2),
        ("Monterrey", "Nuevo León", "NL", "d2", ("640",), "America/Monterrey", 2),
        ("Puebla", "Puebla", "PUE", "d2", ("720",), "America/Mexico_City", 1),
    ],
}

STREETS = {
    "en": ("Main Street", "Oak Avenue", "Maple Drive", "High Street", "Park Road", "Church Lane", "Station Road", "King Street",
           "Elm Street", "Cedar Court", "Victoria Road", "Sunset Boulevard", "Lake View Drive", "Mill Lane"),
    "de": ("Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Goethestraße", "Lindenallee", "Mühlenweg", "Schloßplatz"),
    "fr": ("rue de la Paix", "avenue Victor Hugo", "rue du Moulin", "boulevard Voltaire", "rue des Écoles", "place de la République"),
    "it": ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Piazza della Libertà", "Via Verdi"),
    "es": ("Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia", "Calle Alcalá", "Avenida Insurgentes"),
    "nl": ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Prinsengracht", "Rue Neuve"),
    "sv": ("Storgatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Ängsvägen", "Björkvägen"),
    "pl": ("ul. Długa", "ul. Polna", "ul. Mickiewicza", "ul. Kościuszki", "ul. Słoneczna", "ul. Marszałkowska"),
    "ja": ("Chuo 1-chome", "Shibuya 2-chome", "Minami-Aoyama 3-chome", "Umeda 1-chome", "Sakae 4-chome", "Tenjin 2-chome"),
}
STREET_POOL = {"en": "en", "ie": "en", "de": "de", "fr": "fr", "it": "it", "es": "es", "nl": "nl", "sv": "sv", "pl": "pl", "ja": "ja"}
# House number before the street (US style) or after it (continental style).
NUMBER_FIRST = {"US", "GB", "CA", "AU", "IE", "FR", "JP"}

# Name pools: display form and an ASCII form used for e-mail addresses and usernames.
FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "David",
           "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen", "Emily", "Olivia", "Liam",
           "Noah", "Emma", "Ava", "Sophia", "Isabella", "Mia", "Zoë", "Ethan", "Grace", "Daniel", "Chloe", "Ryan", "Hannah",
           "Amelia", "Jack", "Harry", "Charlotte", "Aaliyah", "Mohammed", "Priya", "Renée"),
    "ie": ("Siobhán", "Seán", "Niamh", "Aoife", "Ciarán", "Pádraig", "Conor", "Aisling", "Eoin", "Róisín", "Cian", "Orla"),
    "de": ("Lukas", "Leon", "Finn", "Jonas", "Paul", "Maximilian", "Felix", "Jürgen", "Jörg", "Uwe", "Anna", "Lea", "Hannah",
           "Lena", "Sophie", "Marie", "Jana", "Käthe", "Sören", "Björn", "Matthias", "Ursula", "Stefan", "Katrin"),
    "fr": ("Lucas", "Louis", "Hugo", "Gabriel", "Arthur", "Jules", "Léo", "Raphaël", "Jade", "Louise", "Emma", "Chloé", "Léa",
           "Manon", "Zoë", "Inès", "Camille", "Hélène", "Françoise", "Amélie", "Noé", "Benoît", "Mathéo", "Clémence"),
    "it": ("Francesco", "Alessandro", "Lorenzo", "Mattia", "Andrea", "Gabriele", "Leonardo", "Niccolò", "Sofia", "Giulia",
           "Aurora", "Alice", "Ginevra", "Emma", "Giorgia", "Chiara", "Federica", "Nicolò", "Martina", "Davide"),
    "es": ("José", "María", "Antonio", "Manuel", "Francisco", "Juan", "David", "Javier", "Lucía", "Sofía", "Martina", "Paula",
           "Julia", "Carmen", "Ana", "Ángel", "Iñigo", "Sebastián", "Valentina", "Mónica", "Jesús", "Raúl", "Alejandro", "Ximena"),
    "nl": ("Daan", "Sem", "Lucas", "Levi", "Finn", "Noah", "Bram", "Thijs", "Emma", "Julia", "Tess", "Sophie", "Zoë", "Fenna",
           "Sanne", "Anouk", "Joëlle", "Maaike", "Pieter", "Wouter"),
    "sv": ("Lars", "Anders", "Johan", "Erik", "Karl", "Björn", "Åke", "Mats", "Anna", "Eva", "Maria", "Karin", "Sara", "Åsa",
           "Linnéa", "Maja", "Elin", "Ebba", "Göran", "Ingrid"),
    "pl": ("Jakub", "Kacper", "Szymon", "Mateusz", "Łukasz", "Paweł", "Michał", "Wojciech", "Zofia", "Zuzanna", "Julia", "Maja",
           "Małgorzata", "Agnieszka", "Katarzyna", "Joanna", "Ewa", "Krzysztof", "Tomasz", "Anna"),
    "ja": ("Haruto", "Yuto", "Sota", "Yuki", "Hayato", "Ren", "Daiki", "Takumi", "Yui", "Hina", "Sakura", "Aoi", "Mei", "Yuna",
           "Rin", "Akari", "Kenji", "Naomi"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Wilson",
           "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "Lewis",
           "Walker", "O'Brien", "Murphy", "Kelly", "Nguyen", "Patel", "Singh", "Robinson", "Hughes", "Evans", "Wright", "Khan",
           "Cooper", "Ward", "Brooks", "Kim", "Bell"),
    "ie": ("Murphy", "Kelly", "O'Sullivan", "Walsh", "O'Connor", "Byrne", "Ryan", "O'Neill", "Ó Briain", "Doyle", "McCarthy",
           "Gallagher", "Ní Dhomhnaill", "Lynch"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann", "Schäfer",
           "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann", "Krüger", "Weiß",
           "Jäger", "Groß", "Hartmann", "Lange"),
    "fr": ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau", "Simon",
           "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Fournier", "Girard", "Mercier", "Faure",
           "Béranger", "Bonnet", "Lambert", "Rousseau"),
    "it": ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
           "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "D'Angelo", "Fabbri"),
    "es": ("García", "González", "Rodríguez", "Fernández", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Martín",
           "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Álvarez", "Muñoz", "Romero", "Núñez", "Castillo", "Ortiz", "Peña"),
    "nl": ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssen", "Visser", "Smit", "Meijer",
           "de Boer", "Mulder", "de Groot", "Bos", "Vos", "Peters", "Hendriks", "van Leeuwen", "Dekker", "Brouwer", "Claes",
           "Peeters"),
    "sv": ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson", "Svensson",
           "Gustafsson", "Pettersson", "Jonsson", "Lindström", "Öberg", "Åberg", "Sjöberg", "Lindqvist", "Bergström"),
    "pl": ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański",
           "Woźniak", "Dąbrowski", "Kozłowski", "Jankowski", "Mazur", "Kwiatkowski", "Krawczyk", "Piotrowski", "Grabowski"),
    "ja": ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi", "Kato", "Yoshida",
           "Yamada", "Sasaki", "Yamaguchi", "Matsumoto", "Inoue"),
}
# Written in native script, with their romanisation (used for e-mail local parts).
KANJI_FIRST = (("翔", "Sho"), ("健太", "Kenta"), ("大輝", "Daiki"), ("陽菜", "Hina"), ("結衣", "Yui"), ("さくら", "Sakura"),
               ("蓮", "Ren"), ("美咲", "Misaki"), ("悠真", "Yuma"), ("愛", "Ai"))
KANJI_LAST = (("佐藤", "Sato"), ("鈴木", "Suzuki"), ("高橋", "Takahashi"), ("田中", "Tanaka"), ("渡辺", "Watanabe"),
              ("伊藤", "Ito"), ("山本", "Yamamoto"), ("中村", "Nakamura"), ("小林", "Kobayashi"), ("加藤", "Kato"))
HANZI_FIRST = (("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("磊", "Lei"), ("洋", "Yang"),
               ("勇", "Yong"), ("杰", "Jie"), ("婷", "Ting"), ("秀英", "Xiuying"), ("建华", "Jianhua"))
HANZI_LAST = (("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"), ("黄", "Huang"),
              ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"))
PINYIN_FIRST = tuple(a for _, a in HANZI_FIRST)
PINYIN_LAST = tuple(a for _, a in HANZI_LAST)
# A few shops receive names with markup in them; they are valid data and must survive intact.
HTML_FIRST = (("<b>Bo</b>", "bo"), ("<i>Mia</i>", "mia"), ("Tom<br>", "tom"))

EMAIL_DOMAINS = {
    "US": ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "hotmail.com", "aol.com", "comcast.net"),
    "GB": ("gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com"),
    "DE": ("gmail.com", "gmx.de", "web.de", "t-online.de", "outlook.de", "posteo.de"),
    "FR": ("gmail.com", "orange.fr", "free.fr", "hotmail.fr", "laposte.net", "sfr.fr"),
    "IT": ("gmail.com", "libero.it", "hotmail.it", "virgilio.it", "yahoo.it"),
    "ES": ("gmail.com", "hotmail.es", "yahoo.es", "outlook.es", "telefonica.net"),
    "NL": ("gmail.com", "ziggo.nl", "hotmail.nl", "kpnmail.nl", "outlook.com"),
    "IE": ("gmail.com", "eircom.net", "hotmail.com", "outlook.ie"),
    "AT": ("gmail.com", "gmx.at", "aon.at", "chello.at"),
    "BE": ("gmail.com", "skynet.be", "telenet.be", "hotmail.be"),
    "SE": ("gmail.com", "telia.com", "hotmail.se", "outlook.com"),
    "PL": ("gmail.com", "wp.pl", "onet.pl", "interia.pl", "o2.pl"),
    "CA": ("gmail.com", "hotmail.ca", "yahoo.ca", "shaw.ca", "rogers.com", "outlook.com"),
    "AU": ("gmail.com", "bigpond.com", "outlook.com.au", "yahoo.com.au", "icloud.com"),
    "JP": ("gmail.com", "yahoo.co.jp", "docomo.ne.jp", "icloud.com", "outlook.jp"),
    "MX": ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com.mx", "prodigy.net.mx"),
}

# ------------------------------------------------------------------ catalogue
# (sku, title, category, list price USD, launched on, popularity weight)
CATEGORIES = {
    "coffee_tea": "consumable", "skincare": "consumable", "supplements": "consumable", "pet_supplies": "consumable",
    "audio": "durable", "kitchen": "durable", "apparel": "durable", "fitness": "durable",
}
PRODUCTS: tuple[tuple, ...] = (
    ("COF-ESP-01", "Espresso Beans 1kg", "coffee_tea", 24.00, "2021-03-01", 6),
    ("COF-DEC-02", "Swiss Water Decaf Beans 500g", "coffee_tea", 16.00, "2021-03-01", 2),
    ("TEA-MAT-03", "Ceremonial Matcha 100g", "coffee_tea", 29.00, "2022-01-15", 4),
    ("TEA-EAR-04", "Earl Grey Loose Leaf 250g", "coffee_tea", 12.00, "2021-06-01", 2),
    ("COF-CAP-05", "Compostable Coffee Capsules 50 pack", "coffee_tea", 19.00, "2022-09-01", 4),
    ("SKN-SER-01", "Vitamin C Face Serum 30ml", "skincare", 32.00, "2021-05-01", 5),
    ("SKN-MOI-02", "Hydrating Moisturizer 50ml", "skincare", 27.00, "2021-05-01", 4),
    ("SKN-SPF-03", "Mineral Sunscreen SPF50", "skincare", 22.00, "2022-04-01", 3),
    ("SKN-CLN-04", "Gentle Foaming Cleanser 150ml", "skincare", 15.00, "2021-05-01", 3),
    ("SKN-MSK-05", "Hydrogel Sheet Mask 10 pack", "skincare", 18.00, "2025-03-01", 2),
    ("SUP-VTD-01", "Vitamin D3 K2 Drops", "supplements", 19.00, "2021-09-01", 4),
    ("SUP-COL-02", "Marine Collagen Powder 300g", "supplements", 39.00, "2022-02-01", 3),
    ("SUP-PRO-03", "Plant Protein Vanilla 1kg", "supplements", 45.00, "2021-09-01", 3),
    ("SUP-OMG-04", "Omega-3 Softgels 120ct", "supplements", 25.00, "2021-09-01", 3),
    ("SUP-MAG-05", "Magnesium Glycinate 90ct", "supplements", 21.00, "2023-01-10", 3),
    ("PET-CTR-01", "Freeze-Dried Cat Treats", "pet_supplies", 14.00, "2022-03-01", 4),
    ("PET-DCH-02", "Dental Dog Chews 30ct", "pet_supplies", 23.00, "2022-03-01", 4),
    ("PET-LIT-03", "Tofu Cat Litter 6L", "pet_supplies", 17.00, "2022-06-01", 3),
    ("PET-FOD-04", "Grain-Free Dog Food 2kg", "pet_supplies", 35.00, "2022-06-01", 3),
    ("PET-SHP-05", "Oatmeal Pet Shampoo", "pet_supplies", 13.00, "2022-03-01", 1),
    ("AUD-EBD-01", "Wireless Earbuds Lite", "audio", 49.00, "2021-02-01", 5),
    ("AUD-EBP-02", "Wireless Earbuds Pro", "audio", 89.00, "2022-10-01", 7),
    ("AUD-SPK-03", "Portable Bluetooth Speaker", "audio", 59.00, "2021-02-01", 3),
    ("AUD-HPN-04", "Over-Ear ANC Headphones", "audio", 129.00, "2022-05-01", 3),
    ("AUD-CHG-05", "GaN USB-C Charger 65W", "audio", 35.00, "2021-02-01", 4),
    ("KIT-KNF-01", "Damascus Chef Knife 8in", "kitchen", 79.00, "2021-04-01", 2),
    ("KIT-PAN-02", "Ceramic Non-Stick Pan 28cm", "kitchen", 45.00, "2021-04-01", 3),
    ("KIT-GRD-03", "Conical Burr Coffee Grinder", "kitchen", 69.00, "2022-01-15", 2),
    ("KIT-KTL-04", "Gooseneck Pour-Over Kettle", "kitchen", 55.00, "2022-01-15", 2),
    ("KIT-SCL-05", "Digital Kitchen Scale", "kitchen", 25.00, "2021-04-01", 2),
    ("APP-HOO-01", "Organic Cotton Hoodie", "apparel", 59.00, "2021-08-01", 3),
    ("APP-TEE-02", "Merino Wool T-Shirt", "apparel", 45.00, "2021-08-01", 3),
    ("APP-LEG-03", "High-Waist Leggings", "apparel", 39.00, "2022-02-01", 3),
    ("APP-SCK-04", "Hiking Socks 3 pack", "apparel", 22.00, "2021-08-01", 2),
    ("APP-JKT-05", "Packable Rain Jacket", "apparel", 89.00, "2023-03-01", 2),
    ("FIT-YMT-01", "Cork Yoga Mat", "fitness", 65.00, "2021-07-01", 2),
    ("FIT-RBD-02", "Resistance Bands Set", "fitness", 29.00, "2021-07-01", 3),
    ("FIT-FRL-03", "High-Density Foam Roller", "fitness", 27.00, "2021-07-01", 2),
    ("FIT-BTL-04", "Insulated Water Bottle 1L", "fitness", 32.00, "2021-07-01", 3),
    ("FIT-KTB-05", "Adjustable Kettlebell 12kg", "fitness", 119.00, "2025-09-15", 1),
)
# The product-quality driver: a popular product with a defective batch line.
BAD_SKU = "AUD-EBP-02"

# ------------------------------------------------------------------ logistics
# carrier: tracking prefix, digits, suffix
CARRIERS: dict[str, tuple[str, int, str]] = {
    "USPS": ("9400", 18, ""),
    "UPS": ("1Z", 16, ""),
    "FedEx": ("", 12, ""),
    "DHL Express": ("", 10, ""),
    "Amazon Logistics": ("TBA", 12, ""),
    "Royal Mail": ("TT", 9, "GB"),
    "DHL Paket": ("00340434", 12, ""),
    "Colissimo": ("6A", 11, ""),
    "PostNL": ("3SPNL", 10, ""),
    "Poste Italiane": ("RR", 9, "IT"),
    "Correos": ("PQ", 14, ""),
    "An Post": ("CE", 9, "IE"),
    "Österreichische Post": ("10", 20, ""),
    "bpost": ("3232", 16, ""),
    "PostNord": ("UA", 9, "SE"),
    "InPost": ("6", 23, ""),
    "Canada Post": ("", 16, ""),
    "Australia Post": ("33", 10, ""),
    "Japan Post": ("EJ", 9, "JP"),
    "Estafeta": ("", 22, ""),
    "Yanwen Economy": ("UG", 9, "YP"),
}
SLOW_CARRIER = "Yanwen Economy"
NATIONAL_POST = {
    "GB": "Royal Mail", "DE": "DHL Paket", "FR": "Colissimo", "IT": "Poste Italiane", "ES": "Correos", "NL": "PostNL",
    "IE": "An Post", "AT": "Österreichische Post", "BE": "bpost", "SE": "PostNord", "PL": "InPost",
    "CA": "Canada Post", "AU": "Australia Post", "JP": "Japan Post", "MX": "Estafeta", "US": "USPS",
}

# ------------------------------------------------------------------ marketing
MONTH_THEMES = {
    1: ("New Year Reset", "Restock Reminder"), 2: ("Valentine's Picks", "New Arrivals"), 3: ("Spring Sale", "Customer Favourites"),
    4: ("Spring Refresh", "Restock Reminder"), 5: ("Mother's Day Gifts", "New Arrivals"), 6: ("Summer Kickoff", "Customer Favourites"),
    7: ("Mid-Year Sale", "Restock Reminder"), 8: ("Back to Routine", "New Arrivals"), 9: ("Autumn Arrivals", "Customer Favourites"),
    10: ("Halloween Deals", "Restock Reminder"), 11: ("Black Friday", "Cyber Monday"), 12: ("Holiday Gift Guide", "Last Shipping Day"),
}
SALE_CODES = {"Spring Sale": "SPRING15", "Mid-Year Sale": "SUMMER20", "Black Friday": "BFCM25", "Cyber Monday": "CYBER20",
              "Halloween Deals": "SPOOKY15", "Holiday Gift Guide": "GIFT15", "New Year Reset": "RESET10"}
EVERGREEN_CODES = ("WELCOME10", "SAVE15", "VIP20", "FRIENDS10", "COMEBACK15")

META_CAMPAIGNS = (
    ("Prospecting | US | Broad", "US"), ("Prospecting | EU | Lookalike 1%", "EU"), ("Retargeting | All | DPA", "ALL"),
    ("Prospecting | UK | Interests", "GB"), ("Retargeting | US | Cart Abandoners", "US"), ("Prospecting | APAC | Broad", "APAC"),
    ("BFCM | All | Sale", "BFCM"), ("Retention | All | Replenishment", "ALL"),
)
GOOGLE_CAMPAIGNS = (
    ("Search | Brand | US", "US", "USD"), ("Search | Generic | US", "US", "USD"), ("Shopping | PMax | US", "US", "USD"),
    ("Search | Brand | EU", "EU", "EUR"), ("Shopping | PMax | EU", "EU", "EUR"), ("Search | Generic | UK", "GB", "EUR"),
    ("Shopping | PMax | Holiday", "BFCM", "USD"),
)
