"""Adviser pages: the rules browser (procedures, stages, requirements with sources, on a chosen date) and rule tests."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from core.errors import BadInput
from web.render import page
from web.views.common import field, form, signed_in, today
from workflows import rules

router = APIRouter()


def _on(value: str) -> date:
    if not value:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput("the date is not a date", hint="use the date picker or YYYY-MM-DD") from None


@router.get("/rules")
def rules_page(request: Request) -> Response:
    """Every procedure; for a chosen country and procedure, its requirements in force on a date."""
    signed_in(request, "rules-view")
    q = request.query_params
    overview = rules.overview()
    countries = sorted({o["country"] for o in overview})
    country = q.get("country", "") if q.get("country", "") in countries else ""
    procedures = [o["procedure"] for o in overview if o["country"] == country]
    procedure = q.get("procedure", "") if q.get("procedure", "") in procedures else ""
    on = _on(q.get("on", ""))
    shown = rules.show(country, procedure or None, on=on) if country else []
    context = {
        "overview": overview,
        "countries": countries,
        "country": country,
        "procedures": procedures,
        "procedure": procedure,
        "on": on.isoformat(),
        "shown": shown,
    }
    return page(request, "rules.html", context)


@router.post("/rules/tests")
def rule_tests(request: Request) -> Response:
    """Run the advisers' YAML rule tests (all countries or one) and show each verdict."""
    signed_in(request, "rules-test")
    country = field(form(request), "country") or None
    results = rules.test(country)
    return page(request, "rule_tests.html", {"results": results, "country": country or "all countries"})
