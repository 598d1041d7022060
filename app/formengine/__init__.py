"""The form engine: loads checklist definitions and evaluates visits against them."""

from app.formengine.definition import DefinitionError, FormDefinition, FormRegistry
from app.formengine.evaluation import VisitView

__all__ = ["DefinitionError", "FormDefinition", "FormRegistry", "VisitView"]
