"""Country rules package `us`: the United States. The rules are data in country.yaml and procedures/*.yaml."""

COUNTRY_ID = "us"
