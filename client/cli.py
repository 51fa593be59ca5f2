"""The ``descent`` command: datasets, training, jobs and predictions from a shell.

Output that a script may read goes to stdout; progress and errors go to
stderr. Every failure is one red line and exit status 1.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, ParamSpec, TypeVar

import click
import typer
from rich.console import Console
from rich.text import Text

from client import files, render
from client.errors import DescentError
from client.http import DEFAULT_URL, Client
from client.keys import keys_app

app = typer.Typer(
    help="Train networks on Descent and predict with them. "
    "`make run` starts a server on this machine.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
datasets_app = typer.Typer(help="List and upload datasets.", no_args_is_help=True)
jobs_app = typer.Typer(help="List training jobs, or show one.")
app.add_typer(datasets_app, name="datasets")
app.add_typer(jobs_app, name="jobs")
app.add_typer(keys_app, name="keys")

out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class State:
    client: Client
    debug: bool


def say(message: str, console: Console = out, style: str = "") -> None:
    # soft_wrap keeps a line whole, so ids and commands in it can be copied.
    console.print(Text(message, style=style), soft_wrap=True, highlight=False)


def fail(message: str, code: int = 1) -> typer.Exit:
    say(f"error: {message}", err, style="red")
    return typer.Exit(code)


def _describe(error: DescentError) -> str:
    if error.field and error.field not in error.message:
        return f"{error.message} (field {error.field})"
    return error.message


def friendly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn any failure inside a command into one red line and exit status 1."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, click.ClickException):
            raise
        except DescentError as error:
            raise fail(_describe(error)) from None
        except OSError as error:
            where = f"{error.filename}: " if error.filename else ""
            raise fail(f"{where}{error.strerror or error}") from None
        except Exception as error:
            state = click.get_current_context().find_object(State)
            if state is not None and state.debug:
                raise
            raise fail(
                f"unexpected {type(error).__name__}: {error} "
                "(rerun with --debug for the traceback)"
            ) from None

    return run


def _client(ctx: typer.Context) -> Client:
    state = ctx.find_object(State)
    assert state is not None, "main() sets the state before any command runs"
    return state.client


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option(envvar="DESCENT_URL", help="The Descent server.")
    ] = DEFAULT_URL,
    key: Annotated[
        str | None,
        typer.Option(envvar="DESCENT_API_KEY", help="An API key.", show_default=False),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
) -> None:
    client = Client(url, key or "")
    ctx.call_on_close(client.close)
    ctx.obj = State(client=client, debug=debug)


@datasets_app.command("list")
@friendly
def datasets_list(ctx: typer.Context) -> None:
    """The built-in datasets, then uploaded ones."""
    render.show(out, render.datasets_table(_client(ctx).datasets()))


@datasets_app.command("upload")
@friendly
def datasets_upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV file with a header row.")],
    target: Annotated[str, typer.Option(help="The column to predict.")],
    name: Annotated[
        str | None, typer.Option(help="A name; the file's name by default.")
    ] = None,
    task: Annotated[
        Literal["classification", "regression"] | None,
        typer.Option(help="Override the task inferred from the target column."),
    ] = None,
) -> None:
    """Upload a CSV dataset."""
    dataset = _client(ctx).upload_dataset(file, target, name=name, task=task)
    render.show(out, render.datasets_table([dataset]))
    say(f"Train on it with: descent train SPEC --dataset {dataset.id}")


@app.command()
@friendly
def train(
    ctx: typer.Context,
    spec_file: Annotated[
        Path,
        typer.Argument(
            metavar="SPEC", help="A .yaml or .json file: network, loss, optimizer..."
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(help="A built-in name (digits) or an uploaded dataset's id."),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Follow training live until it ends.")
    ] = False,
    poll: Annotated[
        float, typer.Option(help="Seconds between progress checks.", min=0.1)
    ] = 0.5,
) -> None:
    """Queue a training job; with --watch, follow it and show the final metrics."""
    spec = files.load_spec(spec_file)
    dataset = dataset or spec.pop("dataset", None)
    if not dataset:
        raise DescentError(
            f"{spec_file} names no dataset; pass --dataset with a built-in name "
            "(see `descent datasets list`) or an uploaded dataset's id"
        )
    job = _client(ctx).train(spec, str(dataset))
    if not watch:
        say(f"Queued job {job.id} ({job.epochs} epochs on {dataset}).")
        say(f"Follow it with: descent jobs show {job.id}")
        return
    try:
        with render.WatchProgress(err) as progress:
            job.wait(poll_s=poll, on_update=progress.update)
    except KeyboardInterrupt:
        say(
            f"Stopped watching; job {job.id} goes on. "
            f"`descent cancel {job.id}` stops it.",
            err,
        )
        raise typer.Exit(130) from None
    render.show(out, render.summary_table(job))
    if job.status != "succeeded":
        raise fail(f"job {job.id} {job.status}: {job.error or 'no reason given'}")


@jobs_app.callback(invoke_without_command=True)
@friendly
def jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many.", min=1, max=200)] = 20,
    offset: Annotated[int, typer.Option(help="How many to skip.", min=0)] = 0,
) -> None:
    """List training jobs, newest first."""
    if ctx.invoked_subcommand is None:
        render.show(
            out, render.jobs_table(_client(ctx).jobs(limit=limit, offset=offset))
        )


@jobs_app.command("show")
@friendly
def jobs_show(
    ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="ID")]
) -> None:
    """A job's status, spec, progress, metrics and model."""
    render.show(out, render.job_detail(_client(ctx).job(job_id)))


@app.command()
@friendly
def cancel(
    ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="ID")]
) -> None:
    """Cancel a queued job, or stop a running one between two batches."""
    job = _client(ctx).cancel(job_id)
    if job.status == "cancelled":
        say(f"Job {job.id} is cancelled.")
    elif job.done:
        say(f"Job {job.id} had already {job.status}; nothing to cancel.")
    else:
        say(f"Job {job.id} will stop after its current batch.")


@app.command()
@friendly
def predict(
    ctx: typer.Context,
    model_id: Annotated[str, typer.Argument(metavar="MODEL", help="A model's id.")],
    csv_file: Annotated[
        Path,
        typer.Argument(metavar="FILE.csv", help="Rows with a header of feature names."),
    ],
    output: Annotated[
        Path | None,
        typer.Option(help="Write the CSV here instead of to stdout."),
    ] = None,
) -> None:
    """Predict for each row of a CSV: its columns plus prediction and probabilities."""
    client = _client(ctx)
    model = client.model(model_id)
    table = files.read_table(csv_file)
    rows = files.feature_rows(table, model.features, csv_file)
    result = client.predict(model.id, rows)
    classes = model.classes if model.task == "classification" else None
    text = files.predictions_csv(
        table, result.predictions, result.probabilities, classes
    )
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    say(f"Wrote {len(rows)} predictions to {output}.", err)


if __name__ == "__main__":
    app()
