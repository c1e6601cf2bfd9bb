"""Query-string types shared by list endpoints: bounded paging and coordinates."""

from __future__ import annotations

from typing import Annotated

from litestar.params import QueryParameter

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size (1-500)")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000, description="rows to skip")]
Latitude = Annotated[float, QueryParameter(ge=-90, le=90)]
Longitude = Annotated[float, QueryParameter(ge=-180, le=180)]
