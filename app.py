"""Start a web app: build the bot once (and the index, if missing), then serve it with uvicorn.

    python app.py            # the public app (chat, /v1 OpenAI-compatible API, /metrics),
                             # http://127.0.0.1:7860 (GOCLUSTER_HOST / GOCLUSTER_PORT)
    python app.py staff      # the staff app behind a login, http://127.0.0.1:7861 (GOCLUSTER_STAFF_PORT)

Both pick up a new index version without a restart (bot/live.py).
"""

from __future__ import annotations

import logging
import sys

from bot.factory import build_bot, build_embedder, build_feedback_store
from bot.live import LiveBot
from indexer.errors import FaqError
from indexer.settings import Settings


def _live_bot(settings: Settings) -> LiveBot:
    embedder = build_embedder(settings)
    bot = build_bot(settings, progress=print, embedder=embedder)  # builds the index first if it is missing
    return LiveBot.from_settings(settings, embedder, bot=bot).start()


def main(settings: Settings | None = None) -> int:
    """The public app."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings or Settings.from_env()
    try:
        live = _live_bot(settings)
        from ui.server import create_public_app, serve  # gradio loads only once the bot is there

        app = create_public_app(live, build_feedback_store(settings), settings)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    serve(app, settings.host, settings.port, settings)
    return 0


def staff_main(settings: Settings | None = None) -> int:
    """The staff app (needs a staff account: `gocluster-faq staff-user add NAME`)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = settings or Settings.from_env()
    try:
        from ui.accounts import ADD_HINT, Accounts

        if not Accounts(settings.staff_users_file).names():  # say so before the model loads
            raise FaqError(f"No staff account yet: add one with `{ADD_HINT}`, then start the staff app again.")
        live = _live_bot(settings)
        from bot.reindex import Reindexer
        from ui.server import create_staff_app, serve

        reindexer = Reindexer(settings, live.embedder, on_new_version=live.check)
        app = create_staff_app(live, build_feedback_store(settings), settings, reindexer)
    except FaqError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    serve(app, settings.host, settings.staff_port, settings)
    return 0


if __name__ == "__main__":
    sys.exit(staff_main() if sys.argv[1:] == ["staff"] else main())
