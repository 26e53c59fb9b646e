"""The playground in the learner's language: its words come from the catalogs (web.yaml).

A page's language: the page's own switch (`/?lang=ko` or `en`, remembered in a cookie), else
Korean when the browser asks for it (Accept-Language, which a browser fills from the same
preference as navigator.language) or when `learngpt serve --workspace DIR` serves a Korean
workspace, else English.

The page (learngpt/assets/web/index.html) marks each of its words as {{ t("web.KEY") }}, filled
here HTML-escaped; its script's words (the keys web.js.*) travel inside the page as JSON. What
the server says about a model (a description, the training's progress) is a `Message` until a
page asks for it in a language (/api/runs?lang=ko).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from learngpt.exercises.catalog import LANGS, catalog, text
from learngpt.resources import asset

COOKIE = "learngpt_lang"
PLACEHOLDER = re.compile(r'\{\{ t\("([\w.]+)"\) \}\}')
FALLBACK = "en"  # for a browser that asks for neither language


@dataclass
class Message:
    """Words about a model, kept as a catalog key and its fields until a language is known."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str) -> str:
        return text(self.key, lang, **self.fields)

    def __str__(self) -> str:  # the API's own error messages are English
        return self.render(FALLBACK)


def in_lang(words: str | Message, lang: str) -> str:
    return words.render(lang) if isinstance(words, Message) else words


def asked_for(accept_language: str) -> str | None:
    """The course language an Accept-Language header ranks highest ("ko-KR,ko;q=0.9,en;q=0.8"
    gives "ko"), or None if it names neither."""
    best, best_q = None, 0.0
    for part in accept_language.split(","):
        tag, _, params = part.partition(";")
        quality = re.search(r"q\s*=\s*([0-9.]+)", params)
        try:
            q = float(quality[1]) if quality else 1.0
        except ValueError:
            continue
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > best_q:
            best, best_q = primary, q
    return best


def page_lang(chosen: str | None, accept_language: str, workspace_lang: str | None) -> str:
    """The page's language: `chosen` (the switch or its cookie), else the learner's language
    where the workspace or the browser names one other than English, else English."""
    if chosen in LANGS:
        return chosen
    for lang in (workspace_lang, asked_for(accept_language)):
        if lang in LANGS and lang != FALLBACK:
            return lang
    return FALLBACK


def render_page(lang: str) -> str:
    """index.html with its words in `lang`, and the script's words as JSON."""
    page = asset("web", "index.html").read_text(encoding="utf-8")
    page = PLACEHOLDER.sub(lambda m: html.escape(text(m[1], lang)), page)
    words = {key: value for key, value in catalog(lang).items() if key.startswith("web.js.")}
    script_words = json.dumps(words, ensure_ascii=False).replace("</", "<\\/")
    return page.replace("{{ lang }}", lang).replace("{{ words }}", script_words)


def page_response(request: Request, workspace_lang: str | None) -> HTMLResponse:
    """GET /: the page in its language; a choice made with the switch is remembered."""
    switched = request.query_params.get("lang")
    chosen = switched if switched in LANGS else request.cookies.get(COOKIE)
    lang = page_lang(chosen, request.headers.get("accept-language", ""), workspace_lang)
    response = HTMLResponse(render_page(lang), headers={"Vary": "Accept-Language, Cookie"})
    if switched in LANGS:
        response.set_cookie(COOKIE, switched, max_age=365 * 24 * 3600, samesite="lax")
    return response


def query_lang(request: Request) -> str:
    """The language an API request asks for (?lang=), English if none or another."""
    lang = request.query_params.get("lang")
    return lang if lang in LANGS else FALLBACK
