"""The import graph: no cycle anywhere, the layering holds, and the product never imports
the tooling (`evaluation/`); and the product's modules and functions stay readable in size
(issue 30)."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

PACKAGES = ("index", "search", "api", "evaluation")
ROOT = Path(__file__).resolve().parent.parent
# The longest module and function of the product (index/, search/, api/), in lines.
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 60


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    cycles = sorted(
        (importer, imported)
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )
    assert cycles == [], f"import cycles (each pair imports the other): {cycles}"


def test_data_flows_from_index_to_search_to_api_only() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    upward = graph.find_illegal_dependencies_for_layers(layers=("api", "search", "index"))
    assert not upward, f"lower layers import higher ones: {upward}"


def test_embedding_backends_import_only_the_base() -> None:
    graph = grimp.build_graph("index", include_external_packages=False, cache_dir=None)
    backends = ("index.sbert", "index.onnx", "index.openvino", "index.hashing", "index.service")
    for backend in backends:
        imported = graph.find_modules_directly_imported_by(backend)
        # index.text (the vocabulary) and index.stages (timing) are leaves that import
        # nothing of the index.
        allowed = {"index.encoder", "index.chunk", "index.errors", "index.text", "index.stages"}
        assert imported <= allowed, (backend, imported)


def test_the_product_never_imports_the_tooling() -> None:
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
    tooling = graph.find_children("evaluation") | {"evaluation"}
    product = [m for m in graph.modules if m.split(".")[0] in ("index", "search", "api")]
    reached = {m: graph.find_upstream_modules(m) & tooling for m in product}
    assert not {m: found for m, found in reached.items() if found}


def test_storage_knows_stories_only_as_what_their_module_hands_it() -> None:
    # index/store.py writes and reads the stories' bytes and arrays through
    # index/story_files.py; how stories are found (index/stories.py) is not its business.
    graph = grimp.build_graph(
        "index", include_external_packages=False, exclude_type_checking_imports=True, cache_dir=None
    )
    assert "index.stories" not in graph.find_modules_directly_imported_by("index.store")
    assert "index.story_files" in graph.find_modules_directly_imported_by("index.store")


def test_no_product_module_or_function_is_too_long_to_read_whole() -> None:
    too_long = []
    for path in sorted(
        p for package in ("index", "search", "api") for p in (ROOT / package).rglob("*.py")
    ):
        source = path.read_text(encoding="utf-8")
        name = path.relative_to(ROOT).as_posix()
        if len(source.splitlines()) > MAX_MODULE_LINES:
            too_long.append(f"{name}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}(): {lines} lines")
    assert not too_long, (
        f"over {MAX_MODULE_LINES} lines a module or {MAX_FUNCTION_LINES} a function: {too_long}"
    )
