"""What several test files share: paths, the seed ids, the API key, a running app,
and the small story corpus. Fixtures stay in conftest.py; this is plain code to import."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"
# The five seed articles: one event (the storming of the U.S. embassy in Baghdad).
SEED_IDS = frozenset(
    {
        "000_487d20731cd06fa7",
        "001_f41bc6fbf25c952a",
        "002_811ad477ead50ed2",
        "003_ec9ad3d51fc008de",
        "004_72b5cb386ec7b792",
    }
)

# One outlet's two reports of a ferry disaster two days apart, the count risen (revised),
# and another outlet's report of the second day without a figure (not answering).
FERRY = [
    {
        "id": "tribune-tue",
        "source": "Lorn Tribune",
        "published": "2024-04-02",
        "title": "Ferry capsizes off Lorn",
        "text": "At least six passengers were killed when the ferry Marisol capsized in a storm "
        "off the port of Lorn on Tuesday, the coast guard said. Rescuers searched the water "
        "for the missing.",
    },
    {
        "id": "tribune-thu",
        "source": "Lorn Tribune",
        "published": "2024-04-04",
        "title": "Lorn ferry toll rises",
        "text": "Thirty-one passengers were killed when the ferry Marisol capsized in a storm off "
        "the port of Lorn, the coast guard said on Thursday. Divers recovered more bodies from "
        "the wreck.",
    },
    {
        "id": "harbour-news",
        "source": "Harbour News",
        "published": "2024-04-04",
        "title": "Divers reach the Marisol wreck off Lorn",
        "text": "Divers reached the wreck of the ferry Marisol off the port of Lorn on Thursday. "
        "The coast guard said the search would continue through the weekend.",
    },
]

# The write key the API tests configure, and the header that sends it.
KEY = "test-secret"
AUTH = {"Authorization": f"Bearer {KEY}"}


def app_client(tmp_path: Path, **settings: object) -> Iterator[TestClient]:
    """A TestClient of the app over the seeds with the hashing embedder, in `tmp_path`."""
    from api.app import create_app
    from api.settings import Settings

    config = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, embedder="hashing", **settings)
    with TestClient(create_app(config)) as client:
        yield client


def wait_ready(client: TestClient, timeout: float = 30.0) -> dict[str, Any]:
    """Poll /health until the index is loaded; its body."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/health")
        if response.status_code == 200:
            return response.json()  # type: ignore[no-any-return]
        if time.monotonic() > deadline:
            raise AssertionError(f"index never became ready: {response.json()}")
        time.sleep(0.05)


@dataclass
class RunningServer:
    url: str
    stop: Callable[[], None]


def serve_app(app: Any, timeout: float = 60.0) -> RunningServer:
    """Run `app` with uvicorn in a thread on a free 127.0.0.1 port; return once /health is 200."""
    import socket
    import threading
    import time

    import httpx
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # log_config=None: uvicorn's own errors reach the root logger, where caplog sees them.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return RunningServer(url, stop)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    stop()
    raise AssertionError("the server never became ready")


# A small corpus of six events, several reports each (id, event, source, date, title, text),
# for the story tests.
ARTICLES = [
    (
        "flood-1",
        "flood",
        "Daily Courier",
        "2021-05-03",
        "Floods kill 12 in Karvia province",
        "Floods in the northern province of Karvia killed 12 people on Monday after the Orlen "
        "river burst its banks, the provincial governor Tomas Brandt said. About 3,400 residents "
        "were moved to shelters in the town of Velsk.",
    ),
    (
        "flood-2",
        "flood",
        "Evening Post",
        "2021-05-04",
        "Karvia flood toll rises to 19",
        "The death toll from floods in Karvia province rose to 19 on Tuesday, governor Tomas "
        "Brandt said, as the Orlen river kept rising. Some 3,400 people remain in shelters around "
        "Velsk and rescuers searched flooded villages by boat.",
    ),
    (
        "flood-3",
        "flood",
        "Wire Service",
        "2021-05-06",
        None,
        "Rescuers in Karvia found four more bodies as the Orlen river floods receded, bringing the "
        "toll to 23, governor Brandt said on Thursday. Residents began returning to Velsk.",
    ),
    (
        "steel-1",
        "steel",
        "Business Daily",
        "2021-05-03",
        "Halvorsen Steel to buy Dunmore Metals",
        "Halvorsen Steel agreed to buy Dunmore Metals for 420 million dollars in cash, the two "
        "companies said on Monday. Halvorsen chief executive Ingrid Moe said the deal would close "
        "by September, subject to approval by competition regulators.",
    ),
    (
        "steel-2",
        "steel",
        "Market Wire",
        "2021-05-05",
        "Dunmore shareholders back Halvorsen bid",
        "Shareholders of Dunmore Metals backed the 420 million dollar takeover by Halvorsen Steel "
        "at a meeting on Wednesday. Ingrid Moe, Halvorsen's chief executive, welcomed the vote.",
    ),
    (
        "port-1",
        "port",
        "Harbour News",
        "2021-05-04",
        "Velmar dock workers strike over pay",
        "Dock workers at the port of Velmar walked out on Tuesday in a dispute over pay, halting "
        "container traffic, the dockers' union led by Anya Kross said. The union wants a 9.5 "
        "percent raise; the port authority offered 4 percent.",
    ),
    (
        "port-2",
        "port",
        "Coastal Times",
        "2021-05-07",
        "Velmar port strike ends with 7 pct deal",
        "The strike at the port of Velmar ended on Friday when the dockers' union accepted a 7 "
        "percent raise, union leader Anya Kross said. Container ships began unloading again.",
    ),
    (
        "chess",
        "chess",
        "Sports Desk",
        "2021-05-05",
        "Young player wins city chess open",
        "A 14-year-old player from Lorn won the city chess open on Wednesday after a final-round "
        "victory with the black pieces over the defending champion.",
    ),
    (
        "bakery",
        "bakery",
        "Food Weekly",
        "2021-05-06",
        "Bakery chain opens its 50th shop",
        "The bakery chain Crumb and Co opened its 50th shop on Thursday and said it would hire "
        "200 more bakers this year as demand for sourdough grows.",
    ),
]
GOLD = {doc_id: event for doc_id, event, *_ in ARTICLES}
