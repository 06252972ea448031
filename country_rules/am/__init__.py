"""Country rules package `am`: Armenia (host country). The rules are data in country.yaml and procedures/*.yaml."""

COUNTRY_ID = "am"
