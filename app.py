"""Start the web app: build the bot once (and the index, if missing), then serve the Gradio UI.

    python app.py            # http://127.0.0.1:7860 ; GOCLUSTER_HOST / GOCLUSTER_PORT to change
"""

from __future__ import annotations

import logging
import sys

from bot.factory import build_bot
from bot.feedback import FeedbackStore
from indexer.errors import FaqError
from indexer.settings import Settings


def main(settings: Settings | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings or Settings.from_env()
    try:
        bot = build_bot(settings, progress=print)  # builds the index first if it is missing
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    from ui.demo import create_demo, launch_kwargs  # gradio loads only once the bot is there

    demo = create_demo(bot, FeedbackStore(settings.feedback_db), settings)
    demo.launch(**launch_kwargs(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
