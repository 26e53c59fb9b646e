"""The playground (`learngpt serve`): a web page to generate text, see where attention looks,
compare the course's steps and trained runs side by side, and follow their loss curves.

    app.py         the ASGI app (Starlette): the page, /api/runs, /api/generate (server-sent events)
    models.py      the served models: trained runs and the learner's models, with their status
    workspace.py   the learner's `mygpt` models, built and briefly trained at start-up
    generation.py  one generation request: checked parameters, and the worker that streams it
    attention.py   the attention weights of every layer and head, recomputed with hooks
    i18n.py        the page in the learner's language: its words from the catalogs (web.yaml)
The page itself (HTML, JavaScript, CSS; no build step, nothing fetched from elsewhere) ships
in learngpt/assets/web/.
"""

from learngpt.web.app import create_app

__all__ = ["create_app"]
