"""The chat page in headless Chromium, against a real server: answers side by side with the
conflict flagged, the story they come from named above them, the other matching stories one
click away, citations opened in the article panel, passages by source, errors a person can
read, a phone layout that stacks the cards, and a report's time shown where it has one.

Needs Debian's Chromium (`apt-get install chromium`); Playwright drives it, nothing is downloaded.
Screenshots land in the session's temp folder and in /tmp/parallax-screens/.
"""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import playwright.sync_api as playwright_api
import pytest

from api.app import create_app
from api.settings import Settings
from evaluation.bench import reuters_records
from helpers import FERRY, SEED_IDS, SEEDS, SHARED, serve_app

Browser = playwright_api.Browser
Page = playwright_api.Page
expect = playwright_api.expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-dev-shm-usage",
]
SCREENS_COPY = Path("/tmp/parallax-screens")
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
QUESTION = "How many were injured?"
EXPECTED_ANSWERS = {
    "001_f41bc6fbf25c952a": ("NBC News", "At least 62 demonstrators", "62"),
    "002_811ad477ead50ed2": ("The Hill", "at least 10 protesters", "10"),
    "000_487d20731cd06fa7": ("NBC News", "At least 10 demonstrators", "10"),
}

SEED_STORY = "U.S. Embassy compound in Baghdad stormed by protesters after Iraq airstrikes"
SEED_DISPUTE = (
    "Sources disagree: at least 62 (NBC News) vs at least 10 (The Hill, NBC News), "
    "all on Dec 31, 2019"
)
REUTERS = SHARED / "data" / "reuters21578" / "reuters21578.jsonl"
# Other events with injury and death figures: South China storms (2 killed, 20 injured), the
# Harbin factory blast (45 killed, 185 injured), a South African refinery clash (3 killed,
# 7 injured), and the Ecuador earthquake.
REUTERS_IDS = {
    "r5224",
    "r5275",
    "r1077",
    "r2957",
    "r3332",
    "r3388",
    "r3940",
    "r5145",
    "r5268",
}
API_KEY = "browser-test-key"

expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model_embedder: Any) -> Iterator[str]:
    """The API on the seeds with the real model, shared by this module's tests."""
    data = tmp_path_factory.mktemp("browser-data")
    running = serve_app(
        create_app(Settings(data_dir=data, seeds_dir=SEEDS, api_key=None), embedder=model_embedder)
    )
    yield running.url
    running.stop()


def _served_with(data: Path, model_embedder: Any, documents: list[dict]) -> Iterator[str]:
    """A server of the seeds plus `documents`, added through POST /documents."""
    settings = Settings(data_dir=data, seeds_dir=SEEDS, api_key=API_KEY)
    running = serve_app(create_app(settings, embedder=model_embedder))
    try:
        response = httpx.post(
            f"{running.url}/documents",
            json={"documents": documents},
            headers={"Authorization": f"Bearer {API_KEY}"},
            timeout=120,
        )
        assert response.status_code == 200, response.text
        yield running.url
    finally:
        running.stop()


@pytest.fixture(scope="module")
def mixed_server(tmp_path_factory: pytest.TempPathFactory, model_embedder: Any) -> Iterator[str]:
    """The seeds plus Reuters articles about other events, posted raw (hard-wrapped)."""
    documents = reuters_records(REUTERS, ids=REUTERS_IDS)
    assert {doc["id"] for doc in documents} == REUTERS_IDS
    yield from _served_with(tmp_path_factory.mktemp("mixed-data"), model_embedder, documents)


# Two reports of one event on one day, each with its time: the second given with its zone,
# stored (and shown) in UTC.
TIMED = [
    {
        "id": "velsk-courier",
        "source": "Velsk Courier",
        "published": "2024-03-09T09:00:00Z",
        "title": "Crane collapses at Velsk harbour",
        "text": "Two dock workers were injured when a container crane collapsed onto a cargo "
        "ship at Velsk harbour on Saturday morning, the port authority said. Loading at the "
        "harbour was halted while engineers inspected the other cranes.",
    },
    {
        "id": "karvia-post",
        "source": "Karvia Post",
        "published": "2024-03-09T15:01:01+01:00",
        "title": "Velsk harbour crane collapse injures dock workers",
        "text": "Four dock workers were injured when a container crane collapsed onto a cargo "
        "ship at Velsk harbour on Saturday, the port authority said in the afternoon. "
        "Engineers inspected the other cranes before loading at the harbour resumed.",
    },
]
TIMED_SHOWN = {
    "velsk-courier": ("2024-03-09T09:00:00Z", "Mar 9, 2024, 09:00 UTC"),
    "karvia-post": ("2024-03-09T14:01:01Z", "Mar 9, 2024, 14:01 UTC"),
}


@pytest.fixture(scope="module")
def timed_server(tmp_path_factory: pytest.TempPathFactory, model_embedder: Any) -> Iterator[str]:
    """The seeds (dated by day) plus the two timed reports, added through POST /documents."""
    yield from _served_with(tmp_path_factory.mktemp("timed-data"), model_embedder, TIMED)


FERRY_QUESTION = "How many passengers were killed when the ferry capsized off Lorn?"
NARROW = {"width": 420, "height": 900}


@pytest.fixture(scope="module")
def ferry_server(tmp_path_factory: pytest.TempPathFactory, model_embedder: Any) -> Iterator[str]:
    """The seeds plus the ferry reports, added through POST /documents."""
    yield from _served_with(tmp_path_factory.mktemp("ferry-data"), model_embedder, FERRY)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            "needs Debian's Chromium at /usr/bin/chromium: `make test` installs it "
            "(apt-get install -y chromium)"
        )
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    SCREENS_COPY.mkdir(parents=True, exist_ok=True)
    return tmp_path_factory.mktemp("screens")


def _screenshot(page: Page, screens: Path, name: str, full_page: bool = False) -> None:
    path = screens / name
    if full_page:
        # The composer is sticky: at the bottom of the page it sits where it belongs.
        page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    page.screenshot(path=str(path), full_page=full_page)
    shutil.copy(path, SCREENS_COPY / name)


@pytest.fixture
def page_errors() -> list[str]:
    return []


def _open(browser: Browser, url: str, viewport: dict[str, int], errors: list[str]) -> Page:
    page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    expect(page.locator("#status")).to_contain_text("indexed")
    return page


@pytest.fixture
def wide_page(browser: Browser, server: str, page_errors: list[str]) -> Iterator[Page]:
    page = _open(browser, server, WIDE, page_errors)
    yield page
    page.context.close()
    assert page_errors == [], "the page threw JavaScript errors"


def _ask(page: Page, question: str) -> None:
    """Type into the question box and press Enter, as a person would."""
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")


def _cards(page: Page, turn: int = -1) -> Any:
    return page.locator("#conversation .turn").nth(turn).locator(".answer-card")


def _expect_injured_answers(page: Page) -> Any:
    cards = _cards(page)
    expect(cards).to_have_count(3)
    return cards


def _shown_day(published: str) -> str:
    """ "2019-12-31" as the page shows a day: "Dec 31, 2019"."""
    day = date.fromisoformat(published)
    return f"{day:%b} {day.day}, {day.year}"


def _expect_not_answering(turn: Any, unanswered: list[dict[str, Any]]) -> None:
    """The reply lists each document of `unanswered` (the API's) under "Not answering": its
    outlet, its day and its sentence closest to the question."""
    section = turn.get_by_role("region", name=re.compile("^Not answering"))
    count = len(unanswered)
    expect(section.locator("h3")).to_have_text(f"Not answering · {count} source{'s' * (count > 1)}")
    items = section.locator(".not-answering-item")
    expect(items).to_have_count(len(unanswered))
    for item, doc in zip(items.all(), unanswered, strict=True):
        expect(item).to_have_attribute("data-doc-id", doc["doc_id"])
        expect(item.locator(".not-answering-outlet")).to_have_text(
            doc["source"] or "Unknown outlet"
        )
        expect(item.locator("time")).to_have_text(_shown_day(doc["published"]))
        expect(item.locator(".context")).to_have_text(doc["context"])
        expect(item.get_by_role("button", name=re.compile("^View in article"))).to_be_visible()


def _expect_timeline(turn: Any, rows: list[tuple[str, str, str]]) -> Any:
    """The reply draws the timeline (hidden from screen readers) with one mark per source and
    point, and gives it as a table of (published, figure, sources) rows, oldest first."""
    figure = turn.locator("figure.timeline")
    expect(figure.locator(".timeline-chart")).to_have_attribute("aria-hidden", "true")
    table = figure.get_by_role("table", name=re.compile("over time.*oldest first"))
    expect(table.locator("thead th")).to_have_text(["Published", "Figure", "Sources"])
    body = table.locator("tbody tr")
    expect(body).to_have_count(len(rows))
    for row, cells in zip(body.all(), rows, strict=True):
        expect(row.locator("td")).to_have_text(list(cells))
    marks = sum(len(sources.split(", ")) for _, _, sources in rows)
    expect(figure.locator(".timeline-chart .mark")).to_have_count(marks)
    return figure


@pytest.mark.browser
@pytest.mark.slow
def test_answers_from_every_source_side_by_side_with_conflict(
    wide_page: Page, server: str, screens: Path
) -> None:
    page = wide_page
    _ask(page, QUESTION)
    cards = _expect_injured_answers(page)
    live = page.locator('[aria-live="polite"]')
    expect(live.locator(".answer-card")).to_have_count(3)

    seen = {}
    for index in range(3):
        card = cards.nth(index)
        doc_id = card.get_attribute("data-doc-id")
        outlet, answer, value = EXPECTED_ANSWERS[doc_id]
        expect(card.locator("h3")).to_have_text(outlet)
        expect(card.locator(".short-answer strong")).to_have_text(answer)
        expect(card.locator(".sentence mark")).to_have_text(answer)
        expect(card.locator(".chip")).to_contain_text(value)
        expect(card.locator(".attribution")).to_have_text(
            "according to the Popular Mobilization Forces"
        )
        expect(card.locator("time")).to_have_text("Dec 31, 2019")
        revised = card.locator(".badge.revised")
        if outlet == "NBC News":
            expect(revised).to_contain_text("same outlet, revised")
        else:
            expect(revised).to_have_count(0)
        seen[doc_id] = value
    assert sorted(seen.values()) == ["10", "10", "62"]

    # Reports of one day (dated by day only) that cannot all be true: disputed, the outlets
    # named, the day said once, never a document id.
    banner = page.locator(".conflict-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-disagreement", "disputed")
    expect(banner.locator(".banner-title")).to_have_text(SEED_DISPUTE)
    expect(banner.locator(".reasons li")).to_have_count(2)
    expect(banner.locator(".reasons li").first).to_have_text(
        "At least 62 (NBC News, Dec 31 2019) and at least 10 (The Hill, Dec 31 2019) at about "
        "the same time"
    )
    assert not any(doc_id in banner.inner_text() for doc_id in SEED_IDS)
    expect(page.locator(".groups li").nth(0)).to_have_text("10 — The Hill, NBC News (000…)")
    expect(page.locator(".groups li").nth(1)).to_have_text("62 — NBC News (001…)")

    # The two seeds that give no answer are listed under the cards, each with its closest
    # sentence; the confidence of each answer is on its card.
    body = httpx.post(f"{server}/ask", json={"question": QUESTION}, timeout=60).json()
    assert body["disagreement"] == "disputed"
    _expect_not_answering(page.locator("#conversation .turn").last, body["unanswered"])
    assert {doc["source"] for doc in body["unanswered"]} == {None, "The Globe and Mail"}
    confidence = {answer["doc_id"]: answer["confidence"] for answer in body["answers"]}
    for index in range(3):
        card = cards.nth(index)
        expected = f"confidence {confidence[card.get_attribute('data-doc-id')]:.2f}"
        expect(card.locator(".short-answer .confidence")).to_have_text(expected)
    _expect_timeline(
        page.locator("#conversation .turn").last,
        [
            ("Dec 31, 2019", "at least 62", "NBC News"),
            ("Dec 31, 2019", "at least 10", "The Hill, NBC News"),
        ],
    )

    # The story the answers come from sits above them; the seeds are all one story.
    story = page.locator(".story-header")
    expect(story.locator(".story-title")).to_have_text(f"Story: {SEED_STORY}")
    expect(story.locator(".story-details")).to_have_text(
        "NBC News, The Hill, The Globe and Mail·Dec 31, 2019·5 documents"
    )
    expect(page.locator(".other-stories")).to_have_count(0)

    # Side by side on a wide screen: one row, left to right.
    boxes = [cards.nth(i).bounding_box() for i in range(3)]
    assert len({round(box["y"]) for box in boxes}) == 1
    assert boxes[0]["x"] < boxes[1]["x"] < boxes[2]["x"]
    _screenshot(page, screens, "answers-wide.png", full_page=True)


@pytest.mark.browser
@pytest.mark.slow
def test_citation_opens_the_article_with_the_sentence_highlighted(
    wide_page: Page, screens: Path
) -> None:
    page = wide_page
    _ask(page, QUESTION)
    cards = _expect_injured_answers(page)
    card = cards.filter(has_text="At least 62 demonstrators")
    button = card.get_by_role("button", name="View in article")
    button.focus()
    page.keyboard.press("Enter")

    panel = page.locator("#article-panel")
    expect(panel).to_be_visible()
    expect(panel.locator("h2")).to_have_text(
        "U.S. Embassy compound in Baghdad stormed by protesters after Iraq airstrikes"
    )
    mark = panel.locator("mark")
    expect(mark).to_have_count(1)
    expect(mark).to_contain_text("At least 62 demonstrators were injured by live bullets")
    expect(mark.locator("strong")).to_have_text("At least 62 demonstrators")
    expect(mark).to_be_in_viewport()
    article = panel.locator("#article-body")
    assert len(article.inner_text()) > 4000  # the whole article, not the passage
    focus_inside = "document.getElementById('article-panel').contains(document.activeElement)"
    assert page.evaluate(focus_inside), "focus should move into the panel"
    _screenshot(page, screens, "article-panel.png")

    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()

    # The close button closes it too, and focus comes back to the card's button again.
    button.click()
    expect(mark).to_be_in_viewport()
    panel.get_by_role("button", name="Close article").click()
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()


@pytest.mark.browser
@pytest.mark.slow
def test_passages_mode_groups_ranked_passages_by_source(
    wide_page: Page, server: str, screens: Path
) -> None:
    page = wide_page
    page.get_by_label("Passages", exact=True).check()
    expect(page.get_by_label("Search passages")).to_be_visible()
    box = page.get_by_label("Search passages")
    box.fill(QUESTION)
    box.press("Enter")

    expected = httpx.post(f"{server}/search", json={"query": QUESTION}, timeout=30).json()
    groups = page.locator("#conversation .turn").last.locator(".source-card")
    expect(groups).to_have_count(len(expected["by_source"]))
    for index, group in enumerate(expected["by_source"]):
        card = groups.nth(index)
        assert card.get_attribute("data-doc-id") == group["doc_id"]
        expect(card.locator("h3")).to_have_text(group["source"] or "Unknown outlet")
        hits = card.locator(".hit")
        expect(hits).to_have_count(len(group["hits"]))
        first = group["hits"][0]
        expect(hits.first.locator(".hit-meta")).to_contain_text(f"Rank {first['rank']}")
        expect(hits.first.locator(".hit-meta")).to_contain_text("score")
    expect(page.locator(".source-card h3.unknown")).to_have_text("Unknown outlet")
    _screenshot(page, screens, "passages-wide.png", full_page=True)

    # A passage's citation highlights that whole passage in its article.
    hill = expected["by_source"][0]["hits"][0]
    groups.first.locator(".hit").first.get_by_role("button", name="View in article").click()
    mark = page.locator("#article-panel mark")
    expect(mark).to_have_count(1)
    assert mark.inner_text().split() == hill["text"].split()
    expect(mark).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(page.locator("#article-panel")).to_be_hidden()


@pytest.mark.browser
@pytest.mark.slow
def test_empty_question_is_blocked_and_api_errors_are_readable(wide_page: Page) -> None:
    page = wide_page
    _ask(page, "   ")
    error = page.locator("#question-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Type a question first.")
    expect(page.get_by_label("Your question")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#conversation .turn")).to_have_count(0)

    # Too long for the server: its 422 message is shown as it is.
    _ask(page, "x" * 1001)
    alert = page.locator("#conversation .turn").last.get_by_role("alert")
    expect(alert).to_contain_text("(422)")
    expect(alert).to_contain_text("'question' has 1001 characters, the limit is 1000")
    expect(alert.get_by_role("button", name="Try again")).to_have_count(0)  # resending won't help
    expect(error).to_be_hidden()

    # API text is shown as text, never parsed as HTML.
    _ask(page, "<img src=x onerror=alert(1)> How many were injured?")
    turn = page.locator("#conversation .turn").last
    expect(turn.locator(".turn-question")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(turn).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#conversation img")).to_have_count(0)


@pytest.mark.browser
def test_unreachable_server_gives_a_readable_error(
    browser: Browser, tmp_path: Path, page_errors: list[str]
) -> None:
    settings = Settings(data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing", api_key=None)
    running = serve_app(create_app(settings))
    page = _open(browser, running.url, WIDE, page_errors)
    try:
        running.stop()
        _ask(page, QUESTION)
        alert = page.locator("#conversation .turn").last.get_by_role("alert")
        expect(alert).to_contain_text("Cannot reach the parallax server")
        expect(alert.get_by_role("button", name="Try again")).to_be_visible()
    finally:
        page.context.close()
    assert page_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_phone_layout_stacks_cards_without_horizontal_scroll(
    browser: Browser, server: str, page_errors: list[str], screens: Path
) -> None:
    page = _open(browser, server, PHONE, page_errors)
    try:
        _ask(page, QUESTION)
        cards = _expect_injured_answers(page)
        boxes = [cards.nth(i).bounding_box() for i in range(3)]
        assert len({round(box["x"]) for box in boxes}) == 1
        for upper, lower in itertools.pairwise(boxes):
            assert lower["y"] >= upper["y"] + upper["height"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
        _screenshot(page, screens, "answers-phone.png", full_page=True)
    finally:
        page.context.close()
    assert page_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_story_header_keeps_the_title_when_the_story_lookup_fails(wide_page: Page) -> None:
    page = wide_page
    page.route("**/stories/*", lambda route: route.fulfill(status=500, body="boom"))
    _ask(page, QUESTION)
    _expect_injured_answers(page)
    story = page.locator(".story-header")
    expect(story.locator(".story-title")).to_have_text(f"Story: {SEED_STORY}")
    expect(page.locator(".conflict-banner")).to_be_visible()
    expect(story.locator(".story-details")).to_be_hidden()


def _story_of_every_document(server: str) -> dict[str, str]:
    page = httpx.get(f"{server}/stories", params={"limit": 1000}, timeout=30).json()
    stories = {}
    for summary in page["stories"]:
        story = httpx.get(f"{server}/stories/{summary['id']}", timeout=30).json()
        stories.update({doc["id"]: story["id"] for doc in story["documents"]})
    return stories


def _expect_one_story(server: str, turn: Any, story_of: dict[str, str]) -> dict[str, Any]:
    """The reply in `turn` names one story, and every card and banner document is of it."""
    expect(turn).not_to_have_attribute("aria-busy", "true")
    header = turn.locator(".story-header")
    expect(header).to_have_count(1)
    story_id = header.get_attribute("data-story-id")
    story = httpx.get(f"{server}/stories/{story_id}", timeout=30).json()
    members = {doc["id"] for doc in story["documents"]}
    expect(header.locator(".story-title")).to_have_text(f"Story: {story['title']}")
    expect(header.locator(".story-details")).to_contain_text(
        re.compile(rf"·{len(members)} documents?$")
    )
    expect(header.locator(".story-sources")).to_have_text(", ".join(story["sources"]))

    cards = turn.locator(".answer-card")
    for index in range(cards.count()):
        assert cards.nth(index).get_attribute("data-doc-id") in members

    # Were the conflict banner to name documents by id, they must all be of the story shown.
    banners = turn.locator(".conflict-banner")
    if banners.count():
        text = banners.inner_text()
        named = {doc_id for doc_id in story_of if doc_id in text}
        assert {story_of[doc_id] for doc_id in named} <= {story_id}, text
    return story


@pytest.mark.browser
@pytest.mark.slow
def test_mixed_archive_answers_come_from_the_story_shown_and_other_stories_ask_again(
    browser: Browser, mixed_server: str, page_errors: list[str], screens: Path
) -> None:
    story_of = _story_of_every_document(mixed_server)
    assert REUTERS_IDS <= story_of.keys()
    page = _open(browser, mixed_server, WIDE, page_errors)
    try:
        turns = page.locator("#conversation .turn")
        _ask(page, "How many people were killed in the earthquake in Ecuador?")
        expect(turns).to_have_count(1)
        quake = _expect_one_story(mixed_server, turns.last, story_of)
        expect(turns.last.locator(".answer-card")).not_to_have_count(0)
        assert "ECUADOR" in quake["title"]

        _ask(page, QUESTION)
        expect(turns).to_have_count(2)
        shown = _expect_one_story(mixed_server, turns.last, story_of)
        expect(turns.last.locator(".answer-card")).not_to_have_count(0)
        expected = httpx.post(f"{mixed_server}/ask", json={"question": QUESTION}, timeout=60)
        others = expected.json()["other_stories"]
        links = turns.last.locator(".other-stories").get_by_role("button")
        expect(links).to_have_count(len(others))
        for link, other in zip(links.all(), others, strict=True):
            assert other["id"] != shown["id"]
            documents = f"{other['documents']} document" + ("s" if other["documents"] > 1 else "")
            expect(link).to_have_text(f"{other['title']} ({documents})")
            expect(link).to_have_accessible_name(re.compile("ask again within this story$"))
        _screenshot(page, screens, "mixed-archive-wide.png", full_page=True)

        # Ask within the embassy story (or, should it be the one shown, the first other one),
        # from the keyboard; a new turn says which story it is within.
        target = next((o for o in others if o["title"] == SEED_STORY), others[0])
        link = links.and_(page.locator(f'[data-story-id="{target["id"]}"]'))
        link.focus()
        page.keyboard.press("Enter")
        expect(turns).to_have_count(3)
        new_turn = turns.last
        expect(new_turn.locator(".turn-question")).to_be_focused()
        expect(new_turn.locator(".turn-question")).to_contain_text(f"Within: {target['title']}")
        within = _expect_one_story(mixed_server, new_turn, story_of)
        assert within["id"] == target["id"]
        if target["title"] == SEED_STORY:
            expect(new_turn.locator(".answer-card")).to_have_count(3)
            expect(new_turn.locator(".conflict-banner .banner-title")).to_have_text(SEED_DISPUTE)
        _screenshot(page, screens, "mixed-archive-other-story.png")
    finally:
        page.context.close()
    assert page_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_a_report_with_a_time_shows_it_in_utc_wherever_its_date_is_shown(
    browser: Browser, timed_server: str, page_errors: list[str], screens: Path
) -> None:
    page = _open(browser, timed_server, WIDE, page_errors)
    try:
        _ask(page, "How many dock workers were injured when the crane collapsed at Velsk?")
        turn = page.locator("#conversation .turn").last
        cards = turn.locator(".answer-card")
        expect(cards).to_have_count(2)
        for index in range(2):
            card = cards.nth(index)
            moment, shown = TIMED_SHOWN[card.get_attribute("data-doc-id")]
            expect(card.locator(".meta time")).to_have_text(shown)
            expect(card.locator(".meta time")).to_have_attribute("datetime", moment)

        # The story's first and last report: one day, so the day once.
        details = turn.locator(".story-header .story-details")
        expect(details).to_contain_text("Mar 9, 2024, 09:00 UTC – 14:01 UTC")
        expect(details.locator("time").last).to_have_attribute("datetime", "2024-03-09T14:01:01Z")
        _screenshot(page, screens, "timed-answers-wide.png")

        # The article panel gives the time too.
        cards.first.get_by_role("button", name="View in article").click()
        moment, shown = TIMED_SHOWN[cards.first.get_attribute("data-doc-id")]
        meta = page.locator("#article-meta time")
        expect(meta).to_have_text(shown)
        expect(meta).to_have_attribute("datetime", moment)
        page.keyboard.press("Escape")

        # So do the passages by source; a seed, dated by day only, still shows just its day.
        page.get_by_label("Passages", exact=True).check()
        box = page.get_by_label("Search passages")
        box.fill("container crane collapsed at Velsk harbour")
        box.press("Enter")
        groups = page.locator("#conversation .turn").last.locator(".source-card")
        expect(groups.first).to_be_visible()
        for index in range(groups.count()):
            group = groups.nth(index)
            doc_id = group.get_attribute("data-doc-id")
            time = group.locator(".meta time")
            if doc_id in TIMED_SHOWN:
                expect(time).to_have_text(TIMED_SHOWN[doc_id][1])
            else:
                expect(time).to_have_text("Dec 31, 2019")
    finally:
        page.context.close()
    assert page_errors == []


@pytest.mark.browser
@pytest.mark.slow
def test_a_source_that_does_not_answer_cites_its_closest_sentence(wide_page: Page) -> None:
    page = wide_page
    _ask(page, QUESTION)
    _expect_injured_answers(page)
    line = page.locator(".not-answering-item").filter(has_text="The Globe and Mail")
    context = line.locator(".context").inner_text()
    button = line.get_by_role("button", name="View in article: The Globe and Mail")
    button.click()
    panel = page.locator("#article-panel")
    expect(panel).to_be_visible()
    mark = panel.locator("mark")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(context)
    expect(mark).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(button).to_be_focused()


@pytest.mark.browser
@pytest.mark.slow
def test_two_outlets_with_different_figures_hours_apart_are_shown_as_a_dispute(
    browser: Browser, timed_server: str, page_errors: list[str], screens: Path
) -> None:
    question = "How many dock workers were injured when the crane collapsed at Velsk?"
    body = httpx.post(f"{timed_server}/ask", json={"question": question}, timeout=60).json()
    assert body["disagreement"] == "disputed", body["reasons"]
    page = _open(browser, timed_server, WIDE, page_errors)
    try:
        _ask(page, question)
        turn = page.locator("#conversation .turn").last
        expect(turn.locator(".answer-card")).to_have_count(2)
        banner = turn.get_by_role("region", name="Sources disagree")
        expect(banner).to_have_attribute("data-disagreement", "disputed")
        expect(banner.locator(".banner-title")).to_have_text(
            "Sources disagree: two (Velsk Courier, Mar 9 09:00 UTC) vs four "
            "(Karvia Post, Mar 9 14:01 UTC)"
        )
        expect(banner.locator(".reasons li")).to_have_text(
            [
                "Two (Velsk Courier, Mar 9 2024 09:00 UTC) and four (Karvia Post, Mar 9 2024 "
                "14:01 UTC) at about the same time"
            ]
        )
        assert "velsk-courier" not in banner.inner_text()
        figure = _expect_timeline(
            turn,
            [
                ("Mar 9, 2024, 09:00 UTC", "two", "Velsk Courier"),
                ("Mar 9, 2024, 14:01 UTC", "four", "Karvia Post"),
            ],
        )
        # The later report on the right, its larger figure higher up.
        early, late = [_box(mark) for mark in figure.locator(".timeline-chart .mark").all()]
        assert early["x"] < late["x"] and late["y"] < early["y"]
        _screenshot(page, screens, "disputed-wide.png")
    finally:
        page.context.close()
    assert page_errors == []


def _box(locator: Any) -> dict[str, float]:
    box = locator.bounding_box()
    assert box is not None
    return box


@pytest.mark.browser
@pytest.mark.slow
def test_a_count_that_rose_in_the_outlets_later_report_is_shown_as_changed_over_time_at_420px(
    browser: Browser, ferry_server: str, page_errors: list[str], screens: Path
) -> None:
    body = httpx.post(f"{ferry_server}/ask", json={"question": FERRY_QUESTION}, timeout=60).json()
    assert body["disagreement"] == "revised", body["reasons"]
    page = _open(browser, ferry_server, NARROW, page_errors)
    try:
        _ask(page, FERRY_QUESTION)
        turn = page.locator("#conversation .turn").last
        cards = turn.locator(".answer-card")
        expect(cards).to_have_count(2)
        banner = turn.get_by_role("region", name="Figures changed over time")
        expect(banner).to_have_attribute("data-disagreement", "revised")
        expect(banner.locator(".banner-title")).to_have_text(
            "Figures changed over time: at least six (Lorn Tribune, Apr 2) → thirty-one "
            "(Lorn Tribune, Apr 4)"
        )
        expect(banner.locator(".reasons li").first).to_contain_text("the outlet's later report")
        expect(turn.get_by_role("region", name="Sources disagree")).to_have_count(0)
        assert "tribune-" not in banner.inner_text()

        figure = _expect_timeline(
            turn,
            [
                ("Apr 2, 2024", "at least six", "Lorn Tribune"),
                ("Apr 4, 2024", "thirty-one", "Lorn Tribune"),
            ],
        )
        expect(figure.locator(".timeline-legend li")).to_have_text(["Lorn Tribune"])
        early, late = [_box(mark) for mark in figure.locator(".timeline-chart .mark").all()]
        assert early["x"] < late["x"] and late["y"] < early["y"]
        _expect_not_answering(turn, body["unanswered"])
        assert [doc["source"] for doc in body["unanswered"]] == ["Harbour News"]

        # Nothing wider than the phone: the page, the chart, the banner, the list.
        assert page.evaluate("document.scrollingElement.scrollWidth") <= NARROW["width"]
        for part in (figure.locator(".timeline-chart svg"), banner, turn.locator(".not-answering")):
            box = _box(part)
            assert 0 <= box["x"] and box["x"] + box["width"] <= NARROW["width"]
        _screenshot(page, screens, "revised-420.png", full_page=True)
    finally:
        page.context.close()
    assert page_errors == []
