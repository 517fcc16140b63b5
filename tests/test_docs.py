"""The README and the Dockerfile stay in step with the code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from api.settings import Settings
from helpers import ROOT


def test_readme_lists_every_setting_with_its_flag_and_default() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        row = next(
            (
                line
                for line in readme.splitlines()
                if line.startswith(f"| `PARALLAX_{name.upper()}`")
            ),
            None,
        )
        assert row is not None, f"README has no row for PARALLAX_{name.upper()}"
        assert f"`--{name.replace('_', '-')}`" in row
        default = "unset" if field.default is None else f"`{field.default}`"
        assert default in row, f"README's default for {name} is not {default}"


def test_readme_gives_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make serve" in readme and "make test" in readme


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    if hadolint is None:
        pytest.fail("hadolint is missing: it is a test dependency (pip install -e '.[test]')")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _api_rows() -> dict[tuple[str, str], str]:
    """The README's HTTP API table: (method, path with `{}` for each parameter) -> row."""
    readme = (ROOT / "README.md").read_text()
    table = readme.split("## HTTP API", 1)[1].split("\n\n", 2)[1]
    rows = {}
    for line in table.splitlines()[2:]:
        for method, path in re.findall(r"`(GET|POST|DELETE) (/[^`?]*)", line.split("|")[1]):
            rows[(method, re.sub(r"\{[^}]*\}", "{}", path))] = line
    return rows


def _fields(text: str) -> set[str]:
    return set(re.findall(r'"([a-z_]+)"', text))


def test_the_readme_api_table_and_the_published_schema_agree(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from helpers import SEEDS

    app = create_app(Settings(data_dir=tmp_path, seeds_dir=SEEDS, embedder="hashing"))
    with TestClient(app) as client:
        schema = client.get("/openapi.json").json()
    models = schema["components"]["schemas"]
    operations = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
        for path, item in schema["paths"].items()
        for method in item
    }
    rows = _api_rows()
    # The page, the metrics and the documentation are routes the schema leaves out.
    unpublished = {("GET", "/"), ("GET", "/metrics"), ("GET", "/docs"), ("GET", "/openapi.json")}
    assert operations == set(rows) - unpublished
    # Each body's fields, as the table names them, before "->"; the response's after it.
    for key, request, response in (
        (("POST", "/search"), "SearchRequest", "SearchResponse"),
        (("POST", "/ask"), "AskRequest", "AskResponse"),
        (("POST", "/documents"), "IngestRequest", None),
    ):
        asked, _, answered = rows[key].split("|")[2].partition("->")
        named = _fields(asked) - set(models["Filters"]["properties"]) - {"auto", "all"}
        named -= {"hybrid", "dense", "lexical"} | set(models["DocumentIn"]["properties"])
        assert named == set(models[request]["properties"]), key
        if response is not None:
            assert _fields(answered) == set(models[response]["properties"]), key
    search = rows[("POST", "/search")]
    assert _fields(search.split("->")[0]) >= set(models["Filters"]["properties"])
    assert _fields(rows[("POST", "/documents")]) >= set(models["DocumentIn"]["properties"])
