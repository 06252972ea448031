"""Country rules package `fr`: France. The rules are data in country.yaml and procedures/*.yaml."""

COUNTRY_ID = "fr"
