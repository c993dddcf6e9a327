"""CSV exports of the feedback, streamed by the staff app from a private folder and deleted once sent.

Not through a Gradio file component: Gradio would copy the file into its shared cache and keep it.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

import fastapi
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask

from bot.feedback import FeedbackStore, FeedbackUnavailable

log = logging.getLogger(__name__)
KINDS = ("negative", "gaps", "all")


def private_dir(path: Path) -> Path:
    """`path` as a folder only this account can enter (0700), created if missing."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


class Exports:
    """GET /exports/<kind>.csv (kind: negative, gaps, all); behind the staff login like every route."""

    def __init__(self, store: FeedbackStore, folder: Path) -> None:
        self.store = store
        self.folder = private_dir(folder)
        for leftover in self.folder.glob("feedback-*.csv"):  # from a run that stopped mid-download
            leftover.unlink(missing_ok=True)

    def add_routes(self, app: fastapi.FastAPI) -> None:
        app.add_api_route("/exports/{kind}.csv", self.download, methods=["GET"], include_in_schema=False)

    def download(self, kind: str) -> fastapi.Response:
        if kind not in KINDS:
            return JSONResponse({"error": "Unknown export."}, status_code=404)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = self.folder / f"feedback-{kind}-{stamp}-{secrets.token_hex(4)}.csv"
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))  # 0600 before any row is in it
        try:
            self.store.export_csv(path, kind=kind)  # type: ignore[arg-type]
        except FeedbackUnavailable as exc:
            path.unlink(missing_ok=True)
            log.warning("export failed error=%s", exc)
            return JSONResponse({"error": "The feedback database cannot be read right now."}, status_code=503)
        return FileResponse(path, media_type="text/csv; charset=utf-8", filename=f"feedback-{kind}-{stamp}.csv",
                            headers={"Cache-Control": "no-store"},
                            background=BackgroundTask(path.unlink, missing_ok=True))
