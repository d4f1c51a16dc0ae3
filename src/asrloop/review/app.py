"""The review page as a web app (FastAPI): server-rendered HTML, a little JavaScript, a JSON save.

Routes:

* ``GET /``: the queue in review order (rank), filtered by ``status``, ``reason``, ``voice``
  and ``phrase``, with the review minutes spent; past ``review.budget_minutes`` pending rows
  are held back;
* ``GET /audio/{clip}``: a queue row's audio file (only queue rows are served);
* ``GET /api/rows/{clip}``: a row as saved now (the page reloads a row after a conflict);
* ``POST /api/rows/{clip}``: save a decision ``{status, reference, reviewer, seen}``; answers
  409 when the row changed since ``seen`` (its tag), 422 for text the normaliser refuses.

Every request passes :mod:`asrloop.review.access` first (Host allow-list, token, CSRF). Answers
carry a message, never a stack trace or a server path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from asrloop.errors import AsrloopError, DataError, MissingInputError
from asrloop.loop.review_queue import MAX_NAME_CHARS, MAX_TEXT_CHARS, ReviewItem
from asrloop.review.access import Access, install
from asrloop.review.page import (
    FILTERS,
    PageSettings,
    filter_options,
    marked_words,
    matches,
    page_rows,
    progress,
    reason_parts,
)
from asrloop.review.store import Decision, ReviewStore, StaleRowError, UnknownClipError

HERE = Path(__file__).resolve().parent


class Save(BaseModel):
    """A reviewer's save: the decision, the corrected text, who, and the row tag they saw."""

    status: str = Field(max_length=16)
    reference: str = Field("", max_length=MAX_TEXT_CHARS)
    reviewer: str = Field(max_length=MAX_NAME_CHARS)
    seen: str = Field(max_length=64)


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


def create_app(store: ReviewStore, settings: PageSettings, access: Access | None = None) -> FastAPI:
    """The review app over ``store``'s queue (``access``: loopback only, when not given)."""
    access = access or Access.for_binding("127.0.0.1")
    app = FastAPI(
        title=f"asrloop review: {settings.drop}", docs_url=None, redoc_url=None, openapi_url=None
    )
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    install(app, access)

    @app.exception_handler(AsrloopError)
    def project_error(request: Request, error: AsrloopError) -> JSONResponse:
        return JSONResponse({"error": store.public(str(error))}, status_code=error_status(error))

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        problems = sorted(
            {
                f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                for e in error.errors()
            }
        )  # the fields and rules only: a 10 MB field is not echoed back
        return JSONResponse({"error": "; ".join(problems)[:500]}, status_code=422)

    @app.exception_handler(Exception)
    def unexpected(request: Request, error: Exception) -> JSONResponse:
        return JSONResponse({"error": "internal error (see the server's log)"}, status_code=500)

    @app.get("/", response_class=HTMLResponse)
    def page(request: Request) -> HTMLResponse:
        items = store.items()
        filters = {name: request.query_params.get(name, "") for name in FILTERS}
        shown = [item for item in page_rows(items, settings) if matches(item, filters)]
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
            "progress": progress(items, settings),
            "csrf": access.csrf,
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
        return {"row": row_json(item), "progress": progress(store.items(), settings)}

    return app
