"""`learngpt serve`: the playground's API, its attention maps, the learner's models, the page.

The page is tested in a real browser: headless Chromium (Debian's `chromium` package, installed
with `apt-get install -y chromium`) driven by Playwright, which is pointed at that binary, so
nothing is downloaded. A screenshot of the page lands in the test's tmp dir.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import html
import re
import shutil
import socket
import sys
import time
from pathlib import Path

import httpx
import pytest
import torch
import trainer_helpers
from trainer_helpers import assert_user_error, run_cli
from web_helpers import events, generated_text, make_workspace, serving

from learngpt.commands import build_parser
from learngpt.course import GPTVer4, HeadVer4, MultiHeadVer1, MultiHeadVer2
from learngpt.exercises.catalog import text
from learngpt.model import GPT, GPTConfig
from learngpt.resources import asset
from learngpt.tokenizers import CharTokenizer
from learngpt.web import create_app
from learngpt.web.attention import attention_maps
from learngpt.web.generation import MAX_NEW_TOKENS, MAX_PROMPT_CHARS
from learngpt.web.i18n import asked_for, page_lang
from learngpt.web.models import READY, CourseModel, Served, run_entry, unique_names
from learngpt.web.workspace import Workspace

trained_template = trainer_helpers.trained_template  # a tiny trained run (block_size 16)


@pytest.fixture(scope="module")
def server(trained_template):
    app = create_app([run_entry(trained_template.out, "tiny")], max_concurrent=4)
    with serving(app) as url:
        yield url


def post(url: str, body, **kwargs) -> httpx.Response:
    content = body if isinstance(body, (str, bytes)) else None
    return httpx.post(
        f"{url}/api/generate", content=content, json=None if content else body, timeout=60, **kwargs
    )


def generate(url: str, **body) -> list[tuple[str, dict]]:
    response = post(url, {"prompt": "ROMEO:", "max_new_tokens": 20, **body})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return events(response.text.splitlines())


# ---- attention maps ----


def caught_outputs(model, kind, idx):
    """The output of every `kind` module during model(idx)."""
    outputs = []
    hooks = [
        m.register_forward_hook(lambda m, a, o: outputs.append((m, a, o)))
        for m in model.modules()
        if isinstance(m, kind)
    ]
    with torch.no_grad():
        model(idx)
    for hook in hooks:
        hook.remove()
    return outputs


@pytest.mark.parametrize("rotary", [False, True])
def test_attention_weights_times_values_give_the_production_models_attention(rotary):
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(vocab_size=11, block_size=12, n_layers=3, n_heads=4, embed_size=16, rotary=rotary)
    ).eval()
    idx = torch.randint(11, (1, 9))
    maps = attention_maps(model, idx)
    assert [m.shape for m in maps] == [(4, 9, 9)] * 3
    for weights, (attn, args, output) in zip(
        maps, caught_outputs(model, type(model.blocks[0].attn), idx), strict=True
    ):
        x = args[0]
        _, _, v = attn.qkv(x).split(16, dim=2)
        v = v.view(1, 9, 4, 4).transpose(1, 2)  # (B, H, T, hs)
        y = (weights[None] @ v).transpose(1, 2).reshape(1, 9, 16)
        torch.testing.assert_close(attn.proj(y), output, atol=1e-5, rtol=1e-5)
        assert torch.all(weights.triu(diagonal=1) == 0), "a token attended to the future"
        torch.testing.assert_close(weights.sum(-1), torch.ones(4, 9))


def test_attention_weights_of_the_course_heads_one_layer_per_multi_head():
    torch.manual_seed(0)
    T, C, V = 8, 16, 13
    layers = torch.nn.Sequential(MultiHeadVer2(T, C, 4), MultiHeadVer1(T, C, 2))
    model = GPTVer4(layers, V, T, C).eval()
    idx = torch.randint(V, (1, 7))
    maps = attention_maps(model, idx)
    assert [m.shape for m in maps] == [(4, 7, 7), (2, 7, 7)]
    # MultiHeadVer1's heads: weights @ values is each head's output
    heads = caught_outputs(model, HeadVer4, idx)
    for h, (head, args, output) in enumerate(heads):
        torch.testing.assert_close(
            maps[1][h] @ head.value(args[0])[0], output[0], atol=1e-5, rtol=1e-5
        )
    ((multi, args, output),) = caught_outputs(model, MultiHeadVer2, idx)
    v = multi.split_heads(multi.value(args[0]))  # (1, H, T, hs)
    y = (maps[0][None] @ v).transpose(1, 2).reshape(1, 7, C)
    torch.testing.assert_close(multi.proj(y), output, atol=1e-5, rtol=1e-5)


# ---- the API ----


def test_runs_lists_the_runs_with_config_and_loss_curve(server):
    (run,) = httpx.get(f"{server}/api/runs").json()["runs"]
    assert run["name"] == "tiny" and run["status"] == READY and run["kind"] == "run"
    assert run["config"]["block_size"] == 16 and run["config"]["n_layers"] == 1
    assert run["loss"]["steps"] == [0, 3, 6]  # TINY: estimates every 3 of 6 steps
    assert len(run["loss"]["val"]) == 3 and all(v > 0 for v in run["loss"]["val"])


def test_generate_streams_one_token_event_per_new_token_then_done(server):
    stream = generate(server, max_new_tokens=25, seed=1)
    names = [event for event, _ in stream]
    assert names == ["start"] + ["token"] * 25 + ["done"]
    assert stream[0][1]["prompt"] == "ROMEO:"
    assert stream[-1][1]["tokens"] == 25
    assert generated_text(stream).startswith("ROMEO:")
    assert generated_text(stream) == generated_text(generate(server, max_new_tokens=25, seed=1))


def test_attention_event_covers_the_text_when_asked(server):
    stream = generate(server, max_new_tokens=6, attention=True)
    ((_, attention),) = [(e, d) for e, d in stream if e == "attention"]
    tokens = attention["tokens"]
    assert "".join(tokens) == generated_text(stream)  # 6 + 6 tokens, inside block_size 16
    ((heads),) = attention["layers"]  # one layer, two heads
    assert len(heads) == 2
    for head in heads:
        assert len(head) == len(tokens)
        for t, row in enumerate(head):
            assert all(w == 0 for w in row[t + 1 :]) and sum(row) == pytest.approx(1, abs=0.01)
    assert "attention" not in [e for e, _ in generate(server, max_new_tokens=3)]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ('{"prompt": "ROMEO:", ', 400, "not valid JSON"),
        ("[1, 2]", 400, "JSON object"),
        ({"prompt": "x" * (MAX_PROMPT_CHARS + 1)}, 413, "limit"),
        ({"prompt": "x", "max_new_tokens": MAX_NEW_TOKENS + 1}, 422, "max_new_tokens"),
        ({"prompt": "x", "temperature": -0.5}, 422, "temperature"),
        ({"prompt": "x", "top_p": 0}, 422, "top_p"),
        ({"prompt": "x", "top_p": 1.5}, 422, "top_p"),
        ({"prompt": "x", "top_k": 0}, 422, "top_k"),
        ({"prompt": "x", "seed": "one"}, 422, "seed"),
        ({"prompt": 3}, 422, "prompt"),
        ({"prompt": "x", "colour": "red"}, 422, "unknown field"),
        ({"prompt": "x", "run": "nope"}, 404, "tiny"),
        ({"prompt": "naïve €"}, 422, "does not know these characters: 'ï', '€'"),
    ],
)
def test_bad_requests_get_a_4xx_json_error_and_the_server_keeps_serving(
    server, body, status, fragment
):
    response = post(server, body)
    assert response.status_code == status, response.text
    assert fragment in response.json()["error"]
    assert generated_text(generate(server, max_new_tokens=2)).startswith("ROMEO:")


def test_sixteen_concurrent_generations_all_complete(server):
    def one(seed: int) -> tuple[int, list]:
        response = post(server, {"prompt": "ROMEO:", "max_new_tokens": 40, "seed": seed % 8})
        return response.status_code, events(response.text.splitlines())

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(one, range(16)))
    assert [status for status, _ in results] == [200] * 16
    for _, stream in results:
        assert stream[-1][0] == "done" and stream[-1][1]["tokens"] == 40
    texts = [generated_text(stream) for _, stream in results]
    assert texts[:8] == texts[8:]  # same seed, same text, however the requests interleave
    assert len(set(texts[:8])) > 1
    status = httpx.get(f"{server}/api/status").json()
    assert status["active"] == 0 and status["running"] == 0
    assert 1 <= status["peak_running"] <= status["max_concurrent"] == 4  # the rest waited


def test_a_client_that_disconnects_stops_its_generation_and_failures_are_reported():
    # untrained, but big enough that 1000 tokens without a cache take far longer than the test
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=65, block_size=256, n_layers=4, n_heads=4, embed_size=128))
    model.eval()
    tokenizer = CharTokenizer([chr(32 + i) for i in range(65)])
    broken = CourseModel(Broken(), block_size=8)  # fails in its first forward pass
    app = create_app(
        [
            Served("big", "run", READY, tokenizer, model),
            Served("broken", "run", READY, tokenizer, broken),
        ]
    )
    playground = app.state.playground
    with serving(app) as url:
        body = {"prompt": "ABC", "max_new_tokens": MAX_NEW_TOKENS}
        with httpx.stream("POST", f"{url}/api/generate", json=body, timeout=60) as response:
            lines = response.iter_lines()
            while next(lines) != "event: token":
                pass
        started = time.monotonic()
        while playground.finished["cancelled"] == 0:
            assert time.monotonic() - started < 20, "the generation did not stop"
            time.sleep(0.05)
        assert playground.active == 0 and playground.finished["completed"] == 0
        # a generation that fails ends its stream with an error event; the server carries on
        stream = generate(url, run="broken")
        assert [e for e, _ in stream] == ["start", "error"]
        assert stream[1][1]["error"] == "RuntimeError: this model is broken"
        assert generated_text(generate(url, run="big", max_new_tokens=3)).startswith("ROMEO:")


class Broken(torch.nn.Module):
    def forward(self, idx, targets=None):
        raise RuntimeError("this model is broken")


# ---- the learner's models ----


def test_workspace_models_train_in_the_background_then_generate(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))  # the workspace puts itself on sys.path
    workspace = Workspace(make_workspace(tmp_path / "ws"), steps=4)
    by_name = {entry.name: entry for entry in workspace.entries}
    assert by_name["mygpt step 10 dropout"].status == "not written yet"
    assert "TODO 10-1" in by_name["mygpt step 10 dropout"].detail
    training = [e.name for e in workspace.entries if e.status == "training"]
    assert len(training) == 7
    app = create_app([], workspace)
    try:
        with serving(app) as url:
            # a Korean workspace (the course's default) gets a Korean page, whatever the browser
            assert workspace.lang == "ko"
            page = httpx.get(url, headers={"Accept-Language": "en-US,en"}).text
            assert '<html lang="ko">' in page and text("web.generate", "ko") in page
            bigram = httpx.get(f"{url}/api/runs", params={"lang": "ko"}).json()["runs"][0]
            assert bigram["description"] == text("web.models.bigram", "ko")
            deadline = time.monotonic() + 60
            while True:
                runs = httpx.get(f"{url}/api/runs").json()["runs"]
                if all(r["status"] != "training" for r in runs):
                    break
                busy = [r for r in runs if r["status"] == "training"][0]
                response = post(url, {"prompt": "A", "max_new_tokens": 1, "run": busy["name"]})
                if response.status_code != 200:  # 200 only if it got ready in the meantime
                    assert response.status_code == 409 and "not ready" in response.json()["error"]
                assert time.monotonic() < deadline, runs
                time.sleep(0.2)
            assert [r["name"] for r in runs if r["status"] == READY] == training
            for run in runs[:-1]:
                assert run["loss"]["steps"] == [0, 1, 2, 3, 4] and run["parameters"] > 0
            bigram = generate(url, run="mygpt step 1 bigram", attention=True)
            assert generated_text(bigram).startswith("ROMEO:")
            assert [d for e, d in bigram if e == "attention"][0]["layers"] == []
            blocks = [
                d
                for e, d in generate(url, run="mygpt step 9 layer norm", attention=True)
                if e == "attention"
            ][0]
            assert len(blocks["layers"]) == 10 and len(blocks["layers"][0]) == 8  # course.yaml
            assert len(blocks["tokens"]) == 8  # the course's block_size
            response = post(url, {"prompt": "A", "run": "mygpt step 10 dropout"})
            assert response.status_code == 409 and "not written yet" in response.json()["error"]
    finally:
        for name in [m for m in sys.modules if m == "mygpt" or m.startswith("mygpt.")]:
            del sys.modules[name]


# ---- the command and the shipped page ----


def test_serve_needs_something_to_serve_and_a_free_port(tmp_path, trained_template):
    assert_user_error(run_cli("serve"), "--out")
    assert_user_error(run_cli("serve", "--workspace", tmp_path), "course start")
    assert_user_error(
        run_cli("serve", "--out", tmp_path / "none"), "is not a run directory; train one first"
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--out", trained_template.out, "--port", port)
    assert_user_error(result, f"cannot listen on 127.0.0.1:{port}", "another --port")


def test_serve_listens_on_this_machine_only_unless_told():
    args = build_parser().parse_args(["serve", "--out", "runs/x"])
    assert (args.host, args.port, args.out) == ("127.0.0.1", 8000, ["runs/x"])


def test_runs_get_short_distinct_names():
    assert unique_names(["runs/a", "other/a", "b/", "x/a"]) == ["a", "a-2", "b", "a-3"]


def test_the_page_and_its_assets_ship_in_the_package(server):
    for name in ("index.html", "app.js", "style.css"):
        assert (asset("web") / name).is_file()
    page = httpx.get(server).text
    for testid in ("prompt", "generate", "output", "attention"):
        assert f'data-testid="{testid}"' in page
    assert "http" not in page.replace("http://www.w3.org", "")  # nothing from elsewhere
    for name in ("app.js", "style.css"):
        assert httpx.get(f"{server}/static/{name}").status_code == 200


# ---- the page in a real browser ----

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root in a container
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium_page(profile: Path, locale: str = "en-US"):
    """A page of a headless Chromium whose language is `locale` (navigator.language and
    Accept-Language both), with a fresh profile."""
    from playwright.sync_api import sync_playwright

    # `make test` installs Chromium (Makefile, target `chromium`); a missing one is a failure
    assert Path(CHROMIUM).exists(), "needs Chromium: run `make chromium` (apt-get install chromium)"

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1100},
            locale=locale,
        )
        try:
            yield context.new_page()
        finally:
            context.close()


@pytest.fixture
def browser_page(tmp_path):
    with chromium_page(tmp_path / "profile") as page:
        yield page


def test_the_page_streams_text_and_draws_the_attention_map(
    trained_template, browser_page, tmp_path
):
    runs = [run_entry(trained_template.out, "tiny"), run_entry(trained_template.out, "tiny-again")]
    page = browser_page
    with serving(create_app(runs)) as url:
        page.goto(url)
        page.wait_for_selector("#compare-list input:checked")  # the runs are listed
        page.fill("[data-testid=prompt]", "ROMEO:")
        page.fill("[data-testid=max-tokens]", "40")
        page.fill("[data-testid=seed]", "7")
        # count the changes to the output: a streamed text arrives in many small appends
        page.evaluate(
            """() => {
                window.outputChanges = 0;
                new MutationObserver((m) => { window.outputChanges += m.length; })
                    .observe(document.querySelector('[data-testid=output]'), {childList: true});
            }"""
        )
        page.click("[data-testid=generate]")
        page.wait_for_selector("[data-testid=attention][data-drawn=true]", timeout=30_000)
        page.wait_for_function("!document.querySelector('[data-testid=generate]').disabled")

        output = page.inner_text("[data-testid=output]")
        assert output.startswith("ROMEO:") and len(output) > len("ROMEO:") + 20
        assert page.evaluate("window.outputChanges") >= 40  # the prompt, then token by token
        # one thumbnail per head (1 layer x 2 heads), and a drawn heatmap with colour in it
        assert page.locator("[data-testid=attention] .thumbs canvas").count() == 2
        inked = page.evaluate(
            """() => {
                const c = document.querySelector('[data-testid=attention-map]');
                const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
                let inked = 0;
                for (let i = 0; i < px.length; i += 4) if (px[i] < 200) inked++;
                return [c.width, inked];
            }"""
        )
        assert inked[0] > 0 and inked[1] > 0
        # hover a token to see what it attended to: the window's first token sees only itself
        tokens = page.locator("[data-testid=attention] .tokens span")
        tokens.nth(0).hover()
        assert f"“{tokens.nth(0).inner_text()}” attended to" in page.inner_text(".heatmap")
        weights = [float(w) for w in tokens.evaluate_all("s => s.map(e => e.dataset.weight)")]
        assert weights[0] == 1 and set(weights[1:]) == {0}, weights
        tokens.nth(5).hover()
        assert f"“{tokens.nth(5).inner_text()}” attended to" in page.inner_text(".heatmap")
        weights = [float(w) for w in tokens.evaluate_all("s => s.map(e => e.dataset.weight)")]
        assert sum(weights[:6]) == pytest.approx(1, abs=0.01) and set(weights[6:]) == {0}
        # side by side: the same model, prompt and seed give the same text in both columns
        columns = page.locator("[data-testid=compare-output]").all_inner_texts()
        assert len(columns) == 2 and columns[0] == columns[1] == output
        assert page.locator("[data-testid=loss] svg").count() == 2
        page.screenshot(path=tmp_path / "playground.png", full_page=True)
    assert (tmp_path / "playground.png").stat().st_size > 10_000


# ---- the page in the learner's language ----

HANGUL = re.compile("[\uac00-\ud7a3]")


def test_the_language_a_browser_asks_for_and_the_one_a_page_speaks():
    assert asked_for("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7") == "ko"
    assert asked_for("en-US,en;q=0.9,ko;q=0.8") == "en"
    assert asked_for("fr-FR, ko;q=0.5, en;q=0.4") == "ko"  # the best one the course speaks
    assert asked_for("ko;q=0, en;q=0.1") == "en" and asked_for("fr, *") is None
    assert asked_for("ko;q=nonsense") == "ko" and asked_for("") is None
    assert page_lang(None, "fr", None) == "en"  # English otherwise
    assert page_lang(None, "ko-KR", None) == "ko"  # the browser asks for Korean
    assert page_lang(None, "en-US", "ko") == "ko"  # a Korean workspace is served
    assert page_lang("en", "ko-KR", "ko") == "en"  # the page's switch wins


def test_the_page_speaks_the_browsers_language_and_remembers_the_switch(server):
    korean = httpx.get(server, headers={"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.8"})
    assert '<html lang="ko">' in korean.text and "Accept-Language" in korean.headers["vary"]
    for key in ("web.generate", "web.prompt", "web.model", "web.attention_help"):
        assert f">{html.escape(text(key, 'ko'))}<" in korean.text, key
    english = httpx.get(server, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert '<html lang="en">' in english.text and not HANGUL.search(english.text)
    assert f">{text('web.generate', 'en')}<" in english.text
    # the switch: ?lang= wins over the browser's language and is remembered in a cookie
    with httpx.Client(headers={"Accept-Language": "ko-KR"}) as browser:
        switched = browser.get(f"{server}/?lang=en")
        assert (
            '<html lang="en">' in switched.text
            and "learngpt_lang=en" in switched.headers["set-cookie"]
        )
        assert '<html lang="en">' in browser.get(server).text  # the next visit, no ?lang=
        assert '<html lang="ko">' in browser.get(f"{server}/?lang=ko").text
    # the models' words in the page's language, English by default
    (ko,) = httpx.get(f"{server}/api/runs", params={"lang": "ko"}).json()["runs"]
    (en,) = httpx.get(f"{server}/api/runs").json()["runs"]
    assert re.search(r": best checkpoint, \d+ step, val loss \d\.\d{3}$", ko["description"])
    assert re.search(r": best checkpoint, step \d+, val loss \d\.\d{3}$", en["description"])


def test_a_korean_browser_gets_the_page_in_korean_and_can_switch_to_english(
    trained_template, tmp_path
):
    with (
        serving(create_app([run_entry(trained_template.out, "tiny")])) as url,
        chromium_page(tmp_path / "profile", locale="ko-KR") as page,
    ):
        page.goto(url)
        assert page.evaluate("navigator.language") == "ko-KR"
        assert page.inner_text("[data-testid=generate]") == text("web.generate", "ko") == "생성"
        assert page.inner_text("label[for=prompt]") == text("web.prompt", "ko")
        assert page.inner_text("label[for=run]") == text("web.model", "ko")
        page.wait_for_selector("#compare-list input:checked")
        page.fill("[data-testid=max-tokens]", "12")
        page.click("[data-testid=generate]")
        page.wait_for_selector("[data-testid=attention][data-drawn=true]", timeout=30_000)
        assert page.inner_text("#stats").startswith("token 12개")  # the script speaks Korean
        assert "token이 본 곳" in page.inner_text(".heatmap")
        page.click("[data-testid=lang-en]")  # the visible switch
        page.wait_for_selector("html[lang=en]")
        body = page.inner_text("body")
        assert page.inner_text("[data-testid=generate]") == "Generate" and not HANGUL.search(body)
        page.goto(url)  # remembered
        assert page.inner_text("[data-testid=generate]") == "Generate"
