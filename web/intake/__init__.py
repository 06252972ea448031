"""Intake without YAML (issue 16): the new-case form, evidence by requirement slot, editing, history, export."""

from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader

from web.intake.routes import router
from web.render import templates

# The intake pages extend the desk's base.html: one Jinja environment that also finds intake/*.html.
_HERE = FileSystemLoader(str(Path(__file__).parent / "templates"))
if templates.env.loader is not None and not isinstance(templates.env.loader, ChoiceLoader):
    templates.env.loader = ChoiceLoader([templates.env.loader, _HERE])

__all__ = ["router"]
