"""How the ``descent`` command shows things: rich tables and a live progress bar."""

from collections.abc import Iterable
from typing import Any, Self

from rich import box
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from client.resources import Dataset, Job

STATUS_STYLES = {
    "queued": "yellow",
    "running": "cyan",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "magenta",
}


def show(console: Console, renderable: RenderableType) -> None:
    """Print a table; off a terminal (a pipe, a file) at its full width, so
    nothing in it is cut or folded."""
    if console.is_terminal:
        console.print(renderable)
        return
    unbounded = console.options.update_width(10_000)
    natural = Measurement.get(console, unbounded, renderable).maximum
    # print(width=...) only narrows, so a wider console draws it.
    wide = Console(file=console.file, width=max(console.width, natural))
    wide.print(renderable)


def number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def status(job: Job) -> str:
    style = STATUS_STYLES.get(job.status, "")
    return f"[{style}]{job.status}[/]" if style else job.status


# Short names for the validation metrics, under a "validation" header.
SHORT_NAMES = {"val_accuracy": "acc", "val_r2": "r²", "val_loss": "loss"}


def validation(job: Job, empty: str = "–", short: bool = False) -> str:
    metric = job.validation_metric
    if metric is None:
        return empty
    name = SHORT_NAMES.get(metric[0], metric[0]) if short else metric[0]
    return f"{name} {number(metric[1])}"


def loss(job: Job) -> str:
    return number((job.metrics or {}).get("loss"))


def network(spec: dict[str, Any]) -> str:
    """``128 relu → 64 relu → 10 softmax`` for a spec's layers."""
    layers = (spec.get("network") or {}).get("layers") or []
    parts = [
        f"{layer.get('units', '?')} {layer.get('activation', 'linear')}"
        for layer in layers
    ]
    return " → ".join(parts) or "–"


def datasets_table(datasets: Iterable[Dataset]) -> Table:
    table = Table(
        title="Datasets", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False
    )
    table.add_column("id", no_wrap=True, min_width=13, style="bold")
    table.add_column("name")
    table.add_column("task")
    table.add_column("rows", justify="right")
    table.add_column("features", justify="right")
    table.add_column("target", overflow="ellipsis")
    table.add_column("classes", justify="right")
    for item in datasets:
        classes = str(len(item.classes)) if item.classes is not None else "–"
        table.add_row(
            escape(item.id),
            escape(item.name),
            item.task,
            str(item.n_rows),
            str(item.n_features),
            escape(item.target),
            classes,
        )
    return table


def jobs_table(jobs: Iterable[Job]) -> Table:
    table = Table(
        title="Jobs, newest first",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("id", no_wrap=True, min_width=36, style="bold")
    table.add_column("status", no_wrap=True, min_width=9)
    table.add_column("epoch", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("validation")
    for job in jobs:
        table.add_row(
            job.id,
            status(job),
            f"{job.epoch}/{job.epochs}",
            loss(job),
            validation(job, short=True),
        )
    return table


def job_detail(job: Job) -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    spec = job.spec or {}
    training = spec.get("training") or {}
    optimizer = spec.get("optimizer") or {}
    rows: list[tuple[str, RenderableType]] = [
        ("job", job.id),
        ("status", status(job) + (" (cancel requested)" if _cancelling(job) else "")),
        ("dataset", escape(job.dataset)),
        ("network", network(spec)),
        ("loss function", str(spec.get("loss", "–"))),
        (
            "optimizer",
            f"{optimizer.get('name', '–')}, learning rate "
            f"{optimizer.get('learning_rate', '–')}",
        ),
        (
            "epoch",
            f"{job.epoch}/{job.epochs} (batch {training.get('batch_size', '–')})",
        ),
        ("loss", loss(job)),
        ("validation", validation(job)),
        ("model", job.model_id or "–"),
        ("created", _time(job.created_at)),
        ("finished", _time(job.finished_at)),
    ]
    if job.error:
        rows.append(("error", f"[red]{escape(job.error)}[/]"))
    for key, value in rows:
        grid.add_row(key, value)
    return grid


def summary_table(job: Job) -> Table:
    """The final metrics of a finished job and the model it produced."""
    table = Table(title=f"Job {job.id}: {status(job)}", title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value", justify="right", no_wrap=True)
    for name, value in sorted((job.metrics or {}).items()):
        table.add_row(name, number(value))
    table.add_row("epochs", f"{job.epoch}/{job.epochs}")
    table.add_row("model", job.model_id or "–")
    return table


def _cancelling(job: Job) -> bool:
    return job.cancel_requested and not job.done


def _time(value: Any) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else "–"


class WatchProgress:
    """A live bar of a job's epochs with its loss and validation metric."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.description:>9}"),
            BarColumn(),
            TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"),
            TextColumn("loss {task.fields[loss]}"),
            TextColumn("{task.fields[validation]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> Self:
        self.progress.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.progress.stop()

    def update(self, job: Job) -> None:
        fields = {"loss": loss(job), "validation": validation(job, empty="")}
        total = max(job.epochs, 1)
        if self.task is None:
            self.task = self.progress.add_task(
                job.status, total=total, completed=job.epoch, **fields
            )
        self.progress.update(
            self.task,
            description=job.status,
            completed=job.epoch,
            total=total,
            **fields,
        )
