"""Country rules package `kz`: Kazakhstan (host country). The rules are data in country.yaml and procedures/*.yaml."""

COUNTRY_ID = "kz"
