"""`parallax ingest URL...` against a loopback web server: RSS and Atom feeds and their
article pages, read twice (the second run conditional, fetching no page again), and the
URLs that fail (404, a timeout, a page over the size limit) refused with their reasons."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from helpers import SEEDS

runner = CliRunner()

# Four events, each reported in a few paragraphs a page.
STORIES = {
    "harbour": (
        "Velmar votes to expand harbour",
        [
            "The city council of Velmar voted on Tuesday to expand the harbour, approving a "
            "budget of 40 million euros after a debate that lasted more than six hours.",
            "Mayor Anya Kross said the new quay would let larger container ships dock and "
            "could bring some 300 jobs to the port district within three years.",
            "Opponents, led by councillor Tomas Brandt, said the plan would destroy wetlands "
            "used by migrating birds and called for an independent environmental review.",
        ],
    ),
    "crane": (
        "Crane collapse injures three dock workers",
        [
            "A crane collapsed at the container terminal of Velmar on Wednesday morning, "
            "injuring three dock workers, one of them seriously, the port authority said.",
            "The 40-metre crane toppled onto a stack of empty containers during high winds, "
            "witnesses said. Operations at the terminal were halted for the rest of the day.",
            "The dockers' union called for an inquiry into maintenance at the terminal, "
            "saying it had warned about the cranes' condition in January.",
        ],
    ),
    "flood": (
        "Orlen river floods villages near Velsk",
        [
            "The Orlen river burst its banks near Velsk on Thursday after three days of heavy "
            "rain, flooding four villages and forcing about 1,200 residents from their homes.",
            "Governor Tomas Brandt said rescuers in boats had reached every flooded village "
            "and that no deaths had been reported by the evening.",
            "Forecasters expect the water to recede slowly over the weekend, though more rain "
            "is due on Monday in the hills upstream.",
        ],
    ),
    "chess": (
        "Fourteen-year-old wins the Lorn chess open",
        [
            "A 14-year-old player from Lorn won the city chess open on Friday after a "
            "final-round victory with the black pieces over the defending champion.",
            "The tournament drew 212 players from nine countries, the organisers said, the "
            "largest field in its forty-year history.",
            "The winner will represent the region at the national championship in August.",
        ],
    ),
}


def page(name: str) -> bytes:
    title, paragraphs = STORIES[name]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<meta property='og:site_name' content='Velmar Herald'></head><body>"
        "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/sport'>Sport</a></nav>"
        f"<article><h1>{title}</h1>{body}</article>"
        "<footer><a href='/about'>About us</a> <a href='/contact'>Contact</a></footer>"
        "</body></html>"
    ).encode()


def rss(base: str) -> bytes:
    """Three items: one carrying its article (content:encoded), two only a summary."""
    full = "".join(f"<p>{p}</p>" for p in STORIES["harbour"][1])
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Velmar Herald</title><link>{base}/</link><description>News</description>
<item><title>Velmar votes to expand harbour</title>
  <link>{base}/articles/harbour.html</link><guid isPermaLink="false">vh-1001</guid>
  <pubDate>Tue, 07 May 2024 18:30:00 +0200</pubDate><author>desk@herald.example (Jo Lind)</author>
  <description>The council voted.</description>
  <content:encoded><![CDATA[{full}]]></content:encoded></item>
<item><title>Crane collapse injures three dock workers</title>
  <link>{base}/articles/crane.html</link><guid>{base}/articles/crane.html</guid>
  <pubDate>Wed, 08 May 2024 07:05:00 GMT</pubDate>
  <description>Three hurt at the terminal.</description></item>
<item><title>Orlen river floods villages near Velsk</title>
  <link>{base}/articles/flood.html</link>
  <description>Villages flooded.</description></item>
</channel></rss>""".encode()


def atom(base: str) -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Lorn Sport</title>
<id>tag:lorn.example,2024:sport</id><updated>2024-05-10T12:00:00Z</updated>
<entry><title>Fourteen-year-old wins the Lorn chess open</title>
  <id>tag:lorn.example,2024:chess-open</id><link href="{base}/articles/chess.html"/>
  <updated>2024-05-10T12:00:00Z</updated><published>2024-05-10T11:00:00+01:00</published>
  <author><name>Sam Reyes</name></author><summary>A young winner.</summary></entry>
</feed>""".encode()


@dataclass
class Site:
    """The loopback site: its base URL and every request it was sent (path, headers)."""

    url: str
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]


@pytest.fixture
def site() -> Iterator[Site]:
    resources: dict[str, tuple[str, bytes]] = {}
    state = Site("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.path == "/slow.html":
                time.sleep(1.5)  # longer than the test's --fetch-timeout
            if self.path not in resources:
                self.send_error(404, "Not Found")
                return
            content_type, body = resources[self.path]
            etag = f'"{hashlib.sha1(body).hexdigest()[:16]}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("ETag", etag)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # the client that timed out has hung up: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    html = "text/html; charset=utf-8"
    resources.update(
        {
            "/rss.xml": ("application/rss+xml", rss(state.url)),
            "/atom.xml": ("application/atom+xml", atom(state.url)),
            "/slow.html": (html, page("chess")),
            "/huge.html": (html, page("chess") + b"<!-- padding -->" * 4000),
        }
    )
    for name in STORIES:
        resources[f"/articles/{name}.html"] = (html, page(name))
    thread = threading.Thread(target=server.serve_forever, name="feed-site", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def ingest(site: Site, data: Path, *urls: str) -> str:
    result = runner.invoke(
        app,
        [
            "ingest",
            *(site.url + url for url in urls),
            "--data-dir",
            str(data),
            "--seeds-dir",
            str(SEEDS),
            "--embedder",
            "hashing",
            "--fetch-timeout",
            "0.5",
            "--fetch-max-bytes",
            "20000",
        ],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def stored(data: Path) -> dict[str, object]:
    from api.settings import Settings
    from api.state import open_from_settings

    settings = Settings(data_dir=data, seeds_dir=SEEDS, embedder="hashing")
    return dict(open_from_settings(settings).corpus.documents)


def test_feeds_are_ingested_once_and_a_second_run_fetches_nothing_again(
    site: Site, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    urls = ("/rss.xml", "/atom.xml", "/missing.html", "/slow.html", "/huge.html")

    first = ingest(site, data, *urls)

    assert "4 added, 0 replaced, 0 unchanged, 3 refused" in first
    assert f"refused {site.url}/missing.html: HTTP 404 Not Found" in first
    assert f"refused {site.url}/slow.html: timed out" in first
    assert f"refused {site.url}/huge.html: larger than 20,000 bytes" in first
    # The item carrying its article is not fetched; the others are.
    fetched = {path for path in site.paths() if path.startswith("/articles/")}
    assert fetched == {"/articles/crane.html", "/articles/flood.html", "/articles/chess.html"}
    user_agent = site.requests[0][1]["user-agent"]
    assert user_agent.startswith("parallax/")

    documents = stored(data)
    host = site.url.removeprefix("http://")
    harbour = documents["127.0.0.1:vh-1001"]  # a bare guid, after the feed's host
    assert harbour.title == "Velmar votes to expand harbour"  # type: ignore[attr-defined]
    assert harbour.source == "Velmar Herald"  # type: ignore[attr-defined]
    assert harbour.published == "2024-05-07T16:30:00Z"  # type: ignore[attr-defined]
    assert "300 jobs" in harbour.text  # type: ignore[attr-defined]
    crane = documents[f"{host}-articles-crane.html"]
    assert "injuring three dock workers" in crane.text  # type: ignore[attr-defined]
    assert crane.url == f"{site.url}/articles/crane.html"  # type: ignore[attr-defined]
    assert crane.published == "2024-05-08T07:05:00Z"  # type: ignore[attr-defined]
    assert f"{host}-articles-flood.html" in documents  # no guid: the id comes from its link
    chess = documents["tag:lorn.example-2024:chess-open"]
    assert chess.source == "Lorn Sport"  # type: ignore[attr-defined]
    assert chess.author == "Sam Reyes"  # type: ignore[attr-defined]
    assert chess.published == "2024-05-10T10:00:00Z"  # type: ignore[attr-defined]

    before = len(site.requests)
    second = ingest(site, data, *urls)

    again = site.requests[before:]
    feeds = {path: headers for path, headers in again if path in ("/rss.xml", "/atom.xml")}
    assert set(feeds) == {"/rss.xml", "/atom.xml"}
    assert all("if-none-match" in headers for headers in feeds.values())
    assert not [path for path, _ in again if path.startswith("/articles/")]
    assert "0 added, 0 replaced, 4 unchanged, 3 refused" in second
    assert f"not modified since the last run: {site.url}/rss.xml" in second
    assert f"not modified since the last run: {site.url}/atom.xml" in second
    assert stored(data).keys() == documents.keys()


def test_a_feed_file_fetches_only_its_new_entries_and_refuses_one_that_is_gone(
    site: Site, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    ingest(site, data, "/rss.xml")
    # A later version of the feed adds an entry whose page is gone.
    before = len(site.requests)
    gone = f"<item><title>Gone</title><link>{site.url}/articles/gone.html</link></item>"
    feed = tmp_path / "herald.rss"
    feed.write_bytes(rss(site.url).replace(b"</channel>", gone.encode() + b"</channel>"))

    result = runner.invoke(
        app,
        ["ingest", str(feed), "--data-dir", str(data), "--embedder", "hashing"],
        env={"COLUMNS": "200", "PARALLAX_SEEDS_DIR": str(SEEDS)},
    )

    assert result.exit_code == 0, result.output
    assert "0 added, 0 replaced, 3 unchanged, 1 refused" in result.output
    assert "entry 4 (" in result.output and "HTTP 404 Not Found" in result.output
    assert site.paths()[before:] == ["/articles/gone.html"]


def test_a_feed_is_asked_whole_again_once_one_of_its_entries_is_gone() -> None:
    import httpx

    from index.documents import Document
    from index.fetch import FetchState
    from index.intake import Unchanged, read_inputs

    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if "if-none-match" in request.headers:
            return httpx.Response(304)
        if request.url.path == "/atom.xml":
            return httpx.Response(200, content=atom("https://lorn.example"), headers={"ETag": "v1"})
        return httpx.Response(200, content=page("chess"), headers={"Content-Type": "text/html"})

    feed, chess = "https://lorn.example/atom.xml", "tag:lorn.example-2024:chess-open"
    state = FetchState()
    state.feeds[feed], state.entries[feed] = {"etag": "v1"}, [chess]
    transport = httpx.MockTransport(answer)

    still = list(read_inputs([feed], known={chess}, state=state, transport=transport))
    assert [request.url.path for request in sent] == ["/atom.xml"]
    assert "if-none-match" in sent[0].headers
    assert still == [Unchanged(feed), Unchanged(feed, chess)]

    # The entry was deleted since: a 304 would hide that, so the feed is asked for whole.
    again = list(read_inputs([feed], known=set(), state=state, transport=transport))
    assert [request.url.path for request in sent[1:]] == ["/atom.xml", "/articles/chess.html"]
    assert "if-none-match" not in sent[1].headers
    assert [item.id for item in again if isinstance(item, Document)] == [chess]


def test_bodies_are_bounded_after_decompression_and_redirects_are_bounded() -> None:
    import gzip

    import httpx

    from index.errors import DocumentError
    from index.fetch import Fetcher, FetchOptions

    bomb = gzip.compress(b"<p>" + b"a" * 200_000 + b"</p>")
    assert len(bomb) < 2_000

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/bomb.html":
            headers = {"Content-Encoding": "gzip", "Content-Type": "text/html"}
            return httpx.Response(200, content=bomb, headers=headers)
        hop = int(request.url.path.strip("/") or 0)
        return httpx.Response(302, headers={"Location": f"/{hop + 1}"})

    with Fetcher(FetchOptions(max_bytes=50_000), httpx.MockTransport(answer)) as fetcher:
        with pytest.raises(DocumentError, match="larger than 50,000 bytes"):
            fetcher.get("https://site.example/bomb.html")
        with pytest.raises(DocumentError, match="more than 5 redirects"):
            fetcher.get("https://site.example/0")
