"""The typer application: one place that lists every command."""

from __future__ import annotations

import typer

from labelgate import __version__
from labelgate.cli import demo, formats_cmds, server_cmds
from labelgate.cli.qa import qa_app

app = typer.Typer(name="labelgate", help="Labelgate: annotation with quality you can prove.", no_args_is_help=True)

app.command("convert")(formats_cmds.convert)
app.command("formats")(formats_cmds.list_formats)
app.command("detect")(formats_cmds.detect_cmd)
app.command("validate")(formats_cmds.validate)
app.command("stats")(formats_cmds.stats)
app.command("demo")(demo.demo)
app.command("serve")(server_cmds.serve)
app.add_typer(server_cmds.user_app)
app.add_typer(server_cmds.project_app)
app.add_typer(qa_app)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True)) -> None:
    """Labelgate command line."""


def main() -> None:  # pragma: no cover - console entry point
    app()
