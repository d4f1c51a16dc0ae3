"""The review page as a web app (FastAPI): server-rendered HTML, a little JavaScript, a JSON save.

Routes:

* ``GET /``: the queue, filtered by ``status``, ``reason``, ``voice`` and ``phrase``;
* ``GET /audio/{clip}``: a queue row's audio file (only queue rows are served);
* ``GET /api/rows/{clip}``: a row as saved now (the page reloads a row after a conflict);
* ``POST /api/rows/{clip}``: save a decision ``{status, reference, reviewer, seen}``; answers
  409 when the row changed since ``seen`` (its tag), 422 for text the normaliser refuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel

from asrloop.errors import AsrloopError, DataError, MissingInputError
from asrloop.loop.review_queue import ReviewItem
from asrloop.review.page import (
    FILTERS,
    PageSettings,
    filter_options,
    marked_words,
    matches,
    progress,
    reason_parts,
)
from asrloop.review.store import Decision, ReviewStore, StaleRowError, UnknownClipError

HERE = Path(__file__).resolve().parent


class Save(BaseModel):
    """A reviewer's save: the decision, the corrected text, who, and the row tag they saw."""

    status: str
    reference: str = ""
    reviewer: str
    seen: str


def row_json(item: ReviewItem) -> dict[str, Any]:
    return {**item.to_dict(), "tag": item.tag}


def error_status(error: AsrloopError) -> int:
    if isinstance(error, StaleRowError):
        return 409
    if isinstance(error, MissingInputError | UnknownClipError):
        return 404
    if isinstance(error, DataError):  # text the normaliser refuses, an unknown clip, no name
        return 422
    return 500


def create_app(store: ReviewStore, settings: PageSettings) -> FastAPI:
    """The review app over ``store``'s queue."""
    app = FastAPI(title=f"asrloop review: {settings.drop}", docs_url=None, redoc_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(AsrloopError)
    def project_error(request: Request, error: AsrloopError) -> JSONResponse:
        return JSONResponse({"error": str(error)}, status_code=error_status(error))

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        items = store.items()
        filters = {name: request.query_params.get(name, "") for name in FILTERS}
        shown = [item for item in items if matches(item, filters)]
        rows = [
            {
                "item": item,
                "tag": item.tag,
                "reasons": reason_parts(item),
                "words": marked_words(item, settings.phrases, settings.low_confidence),
            }
            for item in shown
        ]
        context = {
            "settings": settings,
            "rows": rows,
            "total": len(items),
            "filters": filters,
            "options": filter_options(items),
            "progress": progress(items),
        }
        return templates.TemplateResponse(request, "review.html", context)

    @app.get("/audio/{clip_id}")
    def audio(clip_id: str) -> FileResponse:
        return FileResponse(store.audio_path(clip_id))

    @app.get("/api/rows/{clip_id}")
    def get_row(clip_id: str) -> dict[str, Any]:
        return row_json(store.item(clip_id))

    @app.post("/api/rows/{clip_id}")
    def save_row(clip_id: str, save: Save) -> dict[str, Any]:
        decision = Decision(clip_id, save.status, save.reference, save.reviewer, save.seen)
        item = store.decide(decision)
        return {"row": row_json(item), "progress": progress(store.items())}

    return app
