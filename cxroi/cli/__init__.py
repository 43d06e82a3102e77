"""The ``cxroi`` command line. Command groups live in sibling modules and are imported lazily, so
light commands never pay for heavy imports (PyMC is imported only by training)."""

from __future__ import annotations

import importlib
import os
import sys

import click

from cxroi import __version__
from cxroi.errors import CxroiError

#: command name -> "module:attribute"
COMMANDS = {
    "data": "cxroi.cli.data_continue_cmd:data",
    "train": "cxroi.cli.models_cmd:train",
    "models": "cxroi.cli.models_cmd:models",
    "simulate": "cxroi.cli.sim_cmd:simulate",
    "optimize": "cxroi.cli.sim_cmd:optimize",
    "forecast": "cxroi.cli.export_cmd:forecast",
    "scenarios": "cxroi.cli.export_cmd:scenarios",
    "report": "cxroi.cli.report_cmd:report",
    "serve": "cxroi.cli.serve_cmd:serve",
    "decisions": "cxroi.cli.decisions_cmd:decisions",
    "audit": "cxroi.cli.audit_cmd:audit",
    "track": "cxroi.cli.track_cmd:track",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported only when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # command not available in this build
            raise
        return getattr(module, attribute, None)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cxroi")
def cli() -> None:
    """cxroi — CX-investment ROI simulation and forecasting."""


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one plain message (exit 2), never a traceback."""
    try:
        result = cli.main(args=argv, prog_name="cxroi", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except CxroiError as exc:
        click.secho(f"Error: {exc}", err=True, fg="red")
        return 2
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    except Exception as exc:
        if os.environ.get("CXROI_DEBUG"):
            raise
        click.secho(f"Internal error: {type(exc).__name__}: {exc}", err=True, fg="red")
        click.echo("Set CXROI_DEBUG=1 to see the full details.", err=True)
        return 3
    return result if isinstance(result, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
