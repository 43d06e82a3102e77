"""Forecast exports (XLSX, CSV, Parquet) with the CLI export's provenance, streamed; every export is
recorded as a forecast run with the calling user."""

from __future__ import annotations

import io
import urllib.parse
import zipfile
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from cxroi.api.deps import Ctx
from cxroi.api.routes.scenarios import ScenarioName, Version
from cxroi.api.schemas import MAX_QUANTILES, ForecastRequest, Format, ModelId, Quantile
from cxroi.api.security import CurrentUser
from cxroi.service import simulation as use_cases
from cxroi.service.types import ForecastExport, ScenarioRef

router = APIRouter(tags=["forecast"])
CHUNK_BYTES = 64 * 1024
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
    "zip": "application/zip",
}
FILE_RESPONSE = {200: {"description": "The export file (a ZIP archive when the format writes several files)",
                       "content": {media: {} for media in MEDIA_TYPES.values()}}}


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK_BYTES):
        yield data[start:start + CHUNK_BYTES]


def _attachment(filename: str) -> str:
    """A Content-Disposition naming ``filename`` (RFC 6266, UTF-8 form for any script)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


def streamed(export: ForecastExport) -> StreamingResponse:
    """The export's file streamed (several files: one ZIP archive), with its run and model named in
    ``X-Cxroi-*`` headers."""
    if len(export.files) == 1:
        filename, data = next(iter(export.files.items()))
        media = MEDIA_TYPES[export.fmt]
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in export.files.items():
                archive.writestr(name, content)
        filename, data, media = f"{next(iter(export.files)).rsplit('.', 1)[0]}.zip", buffer.getvalue(), MEDIA_TYPES["zip"]
    headers = {"Content-Disposition": _attachment(filename), "Content-Length": str(len(data)),
               "X-Cxroi-Model-Id": export.simulation.model_id}
    if export.run_id is not None:
        headers["X-Cxroi-Run-Id"] = str(export.run_id)
    if export.decision_id is not None:
        headers["X-Cxroi-Decision-Id"] = str(export.decision_id)
    return StreamingResponse(_chunks(data), media_type=media, headers=headers)


@router.post("/forecast", response_class=StreamingResponse, responses=FILE_RESPONSE,
             summary="Export the forecast of a scenario body or a saved scenario (finance)")
def forecast(body: ForecastRequest, ctx: Ctx, user: CurrentUser) -> StreamingResponse:
    source = ScenarioRef(body.saved.name, body.saved.version) if body.saved else body.scenario
    return streamed(use_cases.forecast(ctx, user, source, body.format, body.model_id, body.quantiles))


@router.get("/scenarios/{name:path}/forecast", response_class=StreamingResponse, responses=FILE_RESPONSE,
            summary="Export the forecast of a saved scenario version (finance)")
def forecast_saved(name: ScenarioName, ctx: Ctx, user: CurrentUser, version: Version = None,
                   format: Format = "xlsx", model_id: Annotated[ModelId | None, Query()] = None,
                   quantiles: Annotated[list[Quantile] | None, Query(max_length=MAX_QUANTILES)] = None,
                   ) -> StreamingResponse:
    export = use_cases.forecast(ctx, user, ScenarioRef(name, version), format, model_id, quantiles)
    return streamed(export)
