"""Start the web app: build the bot once (and the index, if missing), then serve the Gradio UI beside
the OpenAI-compatible API (/v1) and /metrics.

    python app.py            # http://127.0.0.1:7860 ; GOCLUSTER_HOST / GOCLUSTER_PORT to change
"""

from __future__ import annotations

import logging
import sys

from bot.factory import build_bot, build_feedback_store
from indexer.errors import FaqError
from indexer.settings import Settings


def main(settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings or Settings.from_env()
    try:
        bot = build_bot(settings, progress=print)  # builds the index first if it is missing
        store = build_feedback_store(settings)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    from ui.public_app import create_public_app, serve  # gradio loads only once the bot is there

    serve(create_public_app(lambda: bot, store, settings), settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
