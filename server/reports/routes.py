"""HTTP routes of this business area (filled in by the area's issue)."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

HANDLERS: list[ControllerRouterHandler] = []
