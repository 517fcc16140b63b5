"""mkdocs hook: the reference pages written from the code at build time, so they cannot
drift from it.

A page holds a marker line where a reference goes:

- `<!-- generated: openapi -->`: the HTTP API, from the schema the app publishes at
  /openapi.json (`api.app.create_app(...).openapi()`, built without loading the model or
  an index);
- `<!-- generated: cli -->`: the `parallax` command, from Typer's click command tree;
- `<!-- generated: settings -->`: every setting, from `api.settings.Settings`.

Each renderer is a plain function of its source (tests/test_docs.py calls them too).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# This checkout's packages, before any installed copy of them.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MARKER = re.compile(r"^<!-- generated: (\w+) -->$", re.MULTILINE)
# A pattern longer than this (the Unicode classes spelled out) is left to /openapi.json.
LONGEST_PATTERN = 60
SETTINGS_PANELS = {"Settings", "Story settings"}


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace each marker with its generated reference."""
    return MARKER.sub(lambda m: RENDERERS[m.group(1)](), markdown)


@contextmanager
def _defaults_only() -> Iterator[None]:
    """The settings' defaults, whatever PARALLAX_* variables the build runs under."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("PARALLAX_")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(saved)


# --- the HTTP API ------------------------------------------------------------------


def published_schema() -> dict[str, Any]:
    """What GET /openapi.json answers with the default settings."""
    from api.app import create_app
    from api.settings import Settings

    with _defaults_only():
        return create_app(Settings()).openapi()


def _cell(text: object) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;")


def _anchor(model: str) -> str:
    return f"schema-{model.lower()}"


def _ref(ref: str) -> str:
    model = ref.rsplit("/", 1)[1]
    return f"[{model}](#{_anchor(model)})"


def type_of(schema: dict[str, Any]) -> str:
    """A JSON Schema's type in a few words, models as links to their section."""
    if "$ref" in schema:
        return _ref(schema["$ref"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(dict.fromkeys(type_of(s) for s in schema[key]))
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type", "any")
    if kind == "string" and schema.get("maxLength") == 0:
        return "empty string"
    if kind == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_of(schema['additionalProperties'])}"
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)


def limits_of(schema: dict[str, Any]) -> list[str]:
    """The constraints a value must meet, in words (of each alternative that has any)."""
    if schema.get("maxLength") == 0:  # the empty string, named by type_of
        return []
    words = {
        "minLength": "at least {} character(s)",
        "maxLength": "at most {} character(s)",
        "minimum": "at least {}",
        "exclusiveMinimum": "more than {}",
        "maximum": "at most {}",
        "minItems": "at least {} items",
        "maxItems": "at most {} items",
    }
    found = [text.format(schema[key]) for key, text in words.items() if key in schema]
    if "pattern" in schema:
        pattern = schema["pattern"]
        found.append(
            f"matches `{pattern}`"
            if len(pattern) <= LONGEST_PATTERN
            else "matches a pattern (see `/openapi.json`)"
        )
    for key in ("anyOf", "oneOf"):
        for alternative in schema.get(key, []):
            found += limits_of(alternative)
    return found


def _property_row(name: str, schema: dict[str, Any], required: bool) -> str:
    notes = [schema.get("description", "")]
    notes += limits_of(schema)
    if "default" in schema:
        notes.append(f"default `{_json(schema['default'])}`")
    text = "; ".join(n.rstrip(".") for n in notes if n)
    return f"| `{name}` | {_cell(type_of(schema))} | {'yes' if required else ''} | {_cell(text)} |"


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _model(name: str, model: dict[str, Any]) -> list[str]:
    lines = [f"### {name} {{#{_anchor(name)}}}", ""]
    if model.get("description"):
        lines += [" ".join(model["description"].split()), ""]
    if model.get("oneOf"):
        given = [", ".join(f"`{r}`" for r in alt.get("required", [])) for alt in model["oneOf"]]
        lines += [f"Exactly one of {' and '.join(given)} is given.", ""]
    properties = model.get("properties", {})
    if properties:
        required = set(model.get("required", []))
        lines += ["| field | type | required | notes |", "| --- | --- | --- | --- |"]
        lines += [_property_row(k, v, k in required) for k, v in properties.items()]
        if model.get("additionalProperties") is False:
            lines += ["", "Other fields are refused (422)."]
    else:
        lines += [f"Type: {type_of(model)}."]
    return [*lines, ""]


def _body(content: dict[str, Any]) -> str:
    """A request's or response's body: its media types and schemas."""
    return "; ".join(
        f"`{media}`" + (f": {type_of(part['schema'])}" if part.get("schema") else "")
        for media, part in content.items()
    )


def _operation(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", ""]
    if operation.get("summary"):
        lines += [f"**{operation['summary']}.** " + operation.get("description", ""), ""]
    parameters = operation.get("parameters", [])
    if parameters:
        lines += ["| parameter | in | type | required | notes |", "| --- | --- | --- | --- | --- |"]
        for p in parameters:
            schema = p.get("schema", {})
            notes = [p.get("description", "")] + limits_of(schema)
            if "default" in schema:
                notes.append(f"default `{_json(schema['default'])}`")
            text = "; ".join(n for n in notes if n)
            required = "yes" if p.get("required") else ""
            lines.append(
                f"| `{p['name']}` | {p['in']} | {_cell(type_of(schema))} | {required} "
                f"| {_cell(text)} |"
            )
        lines.append("")
    body = operation.get("requestBody")
    if body:
        lines += [
            f"Request body{' (required)' if body.get('required') else ''}: "
            f"{_body(body['content'])}.",
            "",
        ]
    lines += ["| status | meaning | body |", "| --- | --- | --- |"]
    for status, response in sorted(operation.get("responses", {}).items()):
        headers = ", ".join(f"`{h}` header" for h in response.get("headers", {}))
        shape = _body(response.get("content", {}))
        shape = "; ".join(s for s in (shape, headers) if s)
        lines.append(f"| {status} | {_cell(response.get('description', ''))} | {shape} |")
    return [*lines, ""]


def openapi_markdown(schema: dict[str, Any]) -> str:
    """Every operation (parameters, bodies, statuses) and every model of `schema`."""
    info = schema.get("info", {})
    lines = [
        f"Generated from `/openapi.json` (OpenAPI {schema.get('openapi', '')}, "
        f"{info.get('title', '')} API version {info.get('version', '')}), with the default "
        "settings' limits.",
        "",
        "## Endpoints",
        "",
    ]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            lines += _operation(method, path, operation)
    lines += ["## Models", ""]
    for name, model in sorted(schema["components"]["schemas"].items()):
        lines += _model(name, model)
    return "\n".join(lines)


# --- the command line ----------------------------------------------------------------


def cli_command() -> Any:
    """The `parallax` command as click sees it, with the tooling's commands added."""
    import typer

    from api import cli

    # `mkdocs build` reads to the service as its own `build` command, so api.cli did not
    # load the tooling's commands (the `parallax.commands` entry point) on import.
    if not any(c.name == "eval" for c in cli.app.registered_commands):
        cli._register_tooling()
    return typer.main.get_command(cli.app)


def _is_setting(param: Any) -> bool:
    return getattr(param, "rich_help_panel", None) in SETTINGS_PANELS


def _argument_name(param: Any) -> str:
    name = (param.metavar or param.name).upper()
    return name + "..." if param.nargs == -1 and not name.endswith("...") else name


def _param_row(param: Any) -> str:
    if param.param_type_name == "argument":
        name = f"`{_argument_name(param)}`"
        kind = "argument" + (", several" if param.nargs == -1 else "")
    else:
        name = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
        kind = "flag" if getattr(param, "is_flag", False) else "option"
        if param.nargs > 1:
            kind += f", {param.nargs} values"
    notes = [getattr(param, "help", None) or ""]
    default = param.default
    if default not in (None, (), []) and not callable(default) and not param.required:
        notes.append(f"default `{default}`")
    text = "; ".join(n.rstrip(".") for n in notes if n)
    required = "yes" if param.required else ""
    return f"| {name} | {kind} | {required} | {_cell(text)} |"


def cli_markdown(group: Any) -> str:
    """Each command: what it does, its own arguments and options; the settings' flags,
    which every command takes, are on the settings page."""
    import click

    context = click.Context(group, info_name="parallax")
    lines = [
        "Generated from the `parallax` command's Typer definition. Every command also takes "
        "each setting as a flag (`--data-dir`, `--port`, ...; see [Settings](settings.md)); "
        "a flag wins over its `PARALLAX_*` variable.",
        "",
    ]
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        own = [p for p in command.params if not _is_setting(p) and not p.hidden]
        usage = " ".join(
            ["parallax", name, "[OPTIONS]"]
            + [_argument_name(p) for p in own if p.param_type_name == "argument"]
        )
        lines += [f"## `parallax {name}`", "", f"```\n{usage}\n```"]
        lines += ["", _help_markdown(command.help or ""), ""]
        if own:
            lines += ["| name | kind | required | notes |", "| --- | --- | --- | --- |"]
            lines += [_param_row(p) for p in own] + [""]
    return "\n".join(lines)


def _help_markdown(text: str) -> str:
    """A docstring's paragraphs, each joined onto one line."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p.replace("<", "&lt;") for p in paragraphs if p)


# --- settings ---------------------------------------------------------------------------


def setting_default(field: Any) -> str:
    """A setting's default as the settings page shows it."""
    if field.default is None:
        return "unset"
    return f"`{field.default}`"


def settings_markdown() -> str:
    """One row per setting: variable, flag, default, help."""
    from api.settings import Settings

    lines = ["| variable | flag | default | meaning |", "| --- | --- | --- | --- |"]
    # The story matcher's settings come first in the model (its base class); list them
    # last, as `parallax --help` does.
    names = sorted(Settings.model_fields, key=lambda name: name.startswith("story_"))
    for name in names:
        field = Settings.model_fields[name]
        lines.append(
            f"| `PARALLAX_{name.upper()}` | `--{name.replace('_', '-')}` "
            f"| {setting_default(field)} | {_cell(field.description or '')} |"
        )
    return "\n".join(lines)


RENDERERS = {
    "openapi": lambda: openapi_markdown(published_schema()),
    "cli": lambda: cli_markdown(cli_command()),
    "settings": settings_markdown,
}
