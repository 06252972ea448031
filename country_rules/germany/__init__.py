"""Country rules package `de`: Germany. The rules are data in country.yaml and procedures/*.yaml."""

COUNTRY_ID = "de"
