"""The trusted-assessor equipment catalogue and the rules for ordering from it."""

from app.equipment.catalogue import (
    Catalogue,
    CatalogueError,
    CatalogueRegistry,
    Item,
    Measurement,
    Service,
    load_catalogue,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueRegistry",
    "Item",
    "Measurement",
    "Service",
    "load_catalogue",
]
