"""The documentation (README, docs/) and the Dockerfile stay in step with the code."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from api.settings import Settings
from helpers import ROOT

DOCS = ROOT / "docs"


def _hooks() -> ModuleType:
    """docs/hooks.py, the mkdocs hook that writes the reference pages."""
    spec = importlib.util.spec_from_file_location("docs_hooks", DOCS / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _built(page: str) -> str:
    """A docs page's Markdown as the site build sees it, the generated parts filled in."""
    source = (DOCS / page).read_text()
    built = _hooks().on_page_markdown(source)
    assert built != source, f"docs/{page} has no generated part"
    return built


def test_every_setting_has_a_help_line() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description and field.description.strip(), f"{name} has no help"


def test_the_settings_page_lists_every_setting_with_its_flag_and_default() -> None:
    rows = _built("settings.md").splitlines()
    for name, field in Settings.model_fields.items():
        row = next((r for r in rows if r.startswith(f"| `PARALLAX_{name.upper()}`")), None)
        assert row is not None, f"docs/settings.md has no row for PARALLAX_{name.upper()}"
        assert f"`--{name.replace('_', '-')}`" in row
        default = "unset" if field.default is None else f"`{field.default}`"
        assert default in row, f"the settings page's default for {name} is not {default}"
        assert " ".join(field.description.split()).replace("|", "\\|") in row


def test_the_command_line_page_documents_every_command() -> None:
    hooks = _hooks()
    page = _built("cli.md")
    command = hooks.cli_command()
    names = list(command.commands)
    assert {"serve", "ask", "eval", "bench"} <= set(names)
    for name in names:
        assert f"## `parallax {name}`" in page, f"docs/cli.md has no section for {name}"
    # Each command's own options are listed; the settings' flags are on the settings page.
    assert "| `--story` |" in page and "| `--data-dir` |" not in page


def test_the_api_page_documents_every_operation_and_model(tmp_path: Path) -> None:
    hooks = _hooks()
    schema = hooks.published_schema()
    page = _built("api.md")
    for path, item in schema["paths"].items():
        for method in item:
            assert f"### `{method.upper()} {path}`" in page
    for model in schema["components"]["schemas"]:
        assert f"### {model} {{#schema-{model.lower()}}}" in page


def test_readme_is_a_short_tour_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make serve" in readme and "make test" in readme
    assert len(readme.splitlines()) < 200
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).exists(), link


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
    """docs/api.md's summary table: (method, path with `{}` for each parameter) -> row."""
    page = (DOCS / "api.md").read_text()
    table = next(block for block in page.split("\n\n") if block.startswith("| method and path"))
    rows = {}
    for line in table.splitlines()[2:]:
        for method, path in re.findall(r"`(GET|POST|DELETE) (/[^`?]*)", line.split("|")[1]):
            rows[(method, re.sub(r"\{[^}]*\}", "{}", path))] = line
    return rows


def _fields(text: str) -> set[str]:
    return set(re.findall(r'"([a-z_]+)"', text))


def test_the_api_page_table_and_the_published_schema_agree(tmp_path: Path) -> None:
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
