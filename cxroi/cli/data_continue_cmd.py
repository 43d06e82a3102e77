"""``cxroi data continue``: continue a synthetic panel past its last month with a known true lift
(added to the ``cxroi data`` group of cxroi.cli.data_cmd)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cxroi.cli.data_cmd import data
from cxroi.errors import DataError


@data.command("continue")
@click.argument("folder", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--months", required=True, type=click.IntRange(1, 120), help="months to add after the panel's last")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="folder for panel.csv (the panel followed by the new months) and truth.json")
@click.option("--initiative", default=None, help="initiative funded in the new months (default: none)")
@click.option("--segments", multiple=True, help="segments it reaches (repeat)")
@click.option("--lift-csat", default=0.0, show_default=True, type=float, help="true CSAT lift at full effect, points")
@click.option("--lift-nps", default=0.0, show_default=True, type=float, help="true NPS lift at full effect, points")
@click.option("--start-month", default=1, show_default=True, type=click.IntRange(1), help="first funded new month")
@click.option("--duration", default=None, type=click.IntRange(1), help="funded months (default: to the end)")
@click.option("--spend-level", default=1.0, show_default=True, type=click.FloatRange(0, 10),
              help="multiple of the initiative's nominal monthly cost")
@click.option("--seed", default=1, show_default=True, type=int)
def continue_(folder: Path, months: int, out: Path, initiative: str | None, segments: tuple[str, ...],
              lift_csat: float, lift_nps: float, start_month: int, duration: int | None, spend_level: float,
              seed: int) -> None:
    """Continue FOLDER/panel.csv (written by `cxroi data synth`, with its truth.json) by MONTHS
    months with INITIATIVE funded in SEGMENTS at a known true lift (none by default), writing
    the panel and the truth (lift applied per segment and month) into OUT."""
    import pandas as pd

    from cxroi.data.synth import write
    from cxroi.data.synth_continue import continue_panel

    try:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        panel = pd.read_csv(folder / "panel.csv")
    except FileNotFoundError as exc:
        raise DataError(f"{folder}: needs panel.csv and truth.json from `cxroi data synth` ({exc.filename} missing)") from None
    except (ValueError, OSError) as exc:
        raise DataError(f"{folder}: cannot read panel.csv or truth.json ({exc})") from None
    result = continue_panel(panel, truth, months, seed, initiative, segments, lift_csat, lift_nps, start_month,
                            duration, spend_level)
    paths = write(result, out)
    average = result.truth["continuation"]["average_realised_lift"]
    click.echo(f"wrote {', '.join(str(p) for p in paths)}: {months} month(s) from "
               f"{result.truth['continuation']['first_month']}; true average lift in the treated segments from "
               f"the start: CSAT {average['csat']:+.2f}, NPS {average['nps']:+.2f} points")
