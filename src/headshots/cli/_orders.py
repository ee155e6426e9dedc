"""``headshots run`` and the order commands (orders, delete, purge, receipt, retention,
consent): a thin client of ``headshots.orders`` on the embedded store (HEADSHOTS_DATA_DIR)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from headshots.cli import app
from headshots.cli._common import (
    console,
    emit_json,
    err_console,
    friendly_errors,
    json_to_stdout,
)
from headshots.cli._options import (
    DEFAULT_STYLES,
    DEFAULT_WORKERS,
    BaseModelSource,
    Candidates,
    ClassWord,
    Device,
    EarlyReject,
    Guidance,
    JsonOut,
    LearningRate,
    Prompt,
    Rank,
    Resolution,
    SampleSteps,
    Seed,
    Styles,
    StylesFile,
    Token,
    Top,
    TrainSteps,
    Verbose,
    Workers,
)
from headshots.cli._validate import base_model as check_base_model
from headshots.cli._validate import device as check_device
from headshots.cli._validate import output_dir, output_file, train_config


def _workflow(device: str = "auto", workers: int = 1) -> Any:
    from headshots.config import Settings
    from headshots.orders import Runtime, Workflow
    from headshots.store import open_store

    return Workflow(open_store(Settings()), Runtime(device=device, judge_workers=workers))


def _ask_consent(keep_model: bool | None, given: bool) -> Any:
    """The consent record's choice: from --consent in scripts, else asked here; without
    either (no terminal to ask on) nothing is collected."""
    from headshots.errors import ConsentError
    from headshots.orders import CONSENT_VERSION, ConsentChoice, consent_text

    if not given:
        if not sys.stdin.isatty():
            raise ConsentError(
                "consent is needed before any photo is read, and there is no terminal to ask",
                "read it (headshots consent) and pass --consent to agree")
        console.print(consent_text())
        if not typer.confirm("Do you agree?", default=False):
            raise ConsentError("consent was not given, so no photo was read",
                               "run again and agree to make headshots")
        if keep_model is None:
            keep_model = typer.confirm("Keep your fine-tuned model after delivery (to order "
                                       "more later without new selfies)?", default=False)
    return ConsentChoice(version=CONSENT_VERSION, keep_model=bool(keep_model), channel="cli")


class _Bars:
    """Rich progress bars fed by the workflow's events."""

    def __init__(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        # stderr stays where it is: on a terminal Rich would show the libraries' noise
        self.progress = Progress(TextColumn("{task.fields[stage]:<9}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.description}"),
                                 TimeRemainingColumn(), console=console, redirect_stderr=False)
        self.tasks: dict[str, Any] = {}

    def __call__(self, event: Any) -> None:
        stage = event.stage or "order"
        if event.kind == "stage_started" and stage in self.tasks:  # a retry, or another part
            self.progress.update(self.tasks[stage], description=event.message)
        elif event.kind == "stage_started":
            self.tasks[stage] = self.progress.add_task(event.message, stage=stage, total=None)
        elif event.kind == "progress" and stage in self.tasks:
            self.progress.update(self.tasks[stage], completed=event.done, total=event.total,
                                 description=event.message)
        elif event.kind == "stage_done" and stage in self.tasks:
            task = self.progress.tasks[self.tasks[stage]]
            self.progress.update(self.tasks[stage], total=task.total or 1,
                                 completed=task.total or 1, description="done")
        elif event.kind == "stage_failed":
            self.progress.console.print(f"[red]{stage} failed[/]: {event.message}")


def _photos(folder: Path) -> list[tuple[str, bytes]]:
    from headshots.cli._intake import list_photos

    out, unreadable = [], []
    for name, path in list_photos(folder):
        try:
            out.append((name, path.read_bytes()))
        except OSError as exc:  # one unreadable photo is not the end of the order
            unreadable.append(f"{name} ({exc.strerror or exc})")
    if unreadable:
        console.print("left out, cannot be read: " + ", ".join(unreadable))
    return out


def _report_photos(workflow: Any, order_id: str) -> None:
    """The set's verdicts (duplicates and identity need the whole set), under the person's
    own file names, which only this screen knows."""
    names = {p.id: p.display_name for p in workflow.photos(order_id)}
    report = workflow.intake_report(order_id)
    table = Table(title="Your photos")
    for col in ("photo", "verdict", "why"):
        table.add_column(col)
    for p in report.photos:
        why = "; ".join(r.explanation for r in p.reasons) or "-"
        table.add_row(names.get(p.file, p.file), "[green]keep[/]" if p.accepted else
                      "[red]drop[/]", why)
    console.print(table)
    for line in report.set.advice:
        console.print(f"  • {line}")


@app.command()
@friendly_errors
def run(
    selfies: Path = typer.Argument(..., help="Folder with 8-20 selfies of one person."),
    base_model: BaseModelSource = ...,  # type: ignore[assignment]
    out: Path = typer.Option(..., "--out", help="Where to put your delivered headshots."),
    consent: bool = typer.Option(False, "--consent", help="Agree to the consent text "
                                 "(headshots consent) without being asked."),
    keep_model: bool | None = typer.Option(None, "--keep-model/--no-keep-model",
                                           help="Keep the fine-tuned model after delivery."),
    style_ids: Styles = DEFAULT_STYLES,
    prompt: Prompt = None,
    styles_file: StylesFile = None,
    candidates: Candidates = 200,
    top: Top = None,
    class_word: ClassWord = None,
    token: Token = None,
    resolution: Resolution = None,
    train_steps: TrainSteps = None,
    learning_rate: LearningRate = 1e-4,
    rank: Rank = 16,
    seed: Seed = 0,
    sample_steps: SampleSteps = None,
    guidance: Guidance = None,
    preview_count: int = typer.Option(8, "--preview-candidates", min=1,
                                      help="How many images the preview makes."),
    force: bool = typer.Option(False, "--force", help="Generate even after a NO-GO preview."),
    allow_unready: bool = typer.Option(False, "--allow-unready",
                                       help="Train even if the check says not ready."),
    early_reject: EarlyReject = True,
    workers: Workers = DEFAULT_WORKERS,
    device: Device = "auto",
    verbose: Verbose = False,
) -> None:
    """Make headshots from a folder of selfies, as one order: check, prepare, train, preview,
    generate, judge, select and deliver. Re-running the same command resumes the order."""
    from pydantic import ValidationError

    from headshots.errors import PhotoSetError
    from headshots.orders import OrderParams, fingerprint, order_summary
    from headshots.orders._params import params_error

    output_dir(out, "--out")
    files = _photos(selfies)  # the folder is read, never modified
    check_base_model(base_model)
    check_device(device)
    train_config("run", steps=train_steps, resolution=resolution, learning_rate=learning_rate,
                 rank=rank, alpha=rank, seed=seed, class_word=class_word, identity_token=token)
    custom = []
    if styles_file is not None:
        from headshots.generate import builtin_styles, load_styles

        builtin = builtin_styles()
        custom = [s.model_dump() for k, s in load_styles(styles_file).items()
                  if k not in builtin or s != builtin[k]]
    try:
        params = OrderParams(
            base_model=str(Path(base_model).resolve()) if Path(base_model).exists()
            else base_model, class_word=class_word or "person", token=token or "sks",
            styles=style_ids,
            prompt=prompt, custom_styles=tuple(custom), candidates=candidates, top=top,
            preview_count=preview_count, train_steps=train_steps, resolution=resolution,
            learning_rate=learning_rate, rank=rank, seed=seed, sample_steps=sample_steps,
            guidance=guidance, early_reject=early_reject, allow_unready=allow_unready,
        ).validate_all()
    except ValidationError as exc:
        raise params_error(exc) from None
    workflow = _workflow(device, workers)
    photos_hash = fingerprint(files)
    order = workflow.find_resumable("local", params.digest(), photos_hash)
    if order is not None:
        console.print(f"resuming order {order.id} ({order.status.replace('_', ' ')})")
    else:
        _explain_new(workflow, out, params)
        order_id = workflow.create_order(params, _ask_consent(keep_model, consent),
                                         photos_hash=photos_hash)
        console.print(f"order {order_id}: consent recorded; checking {len(files)} photos")
        for name, data in files:
            workflow.add_photo(order_id, name, data)
        _report_photos(workflow, order_id)
        try:
            workflow.start(order_id)
        except PhotoSetError:
            from headshots.orders import delete_order

            delete_order(workflow.store, order_id)  # nothing of an unusable set is kept
            raise
        order = workflow.get(order_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "order.json").write_text(json.dumps({"order": order.id, "params": params.digest()}))
    bars = _Bars()
    advance = _advancer(workflow, bars)
    with bars.progress:
        order = advance(order.id)
    if order.status == "awaiting_approval":
        verdict = order.preview or {}
        colour = "green" if verdict.get("go") else "red"
        console.print(f"[{colour}]preview: {'GO' if verdict.get('go') else 'NO-GO'}[/] — "
                      f"{verdict.get('why', '')}")
        if not verdict.get("go") and not force:
            console.print("stopped after a NO-GO preview: fix the selfies or settings, or run "
                          "the same command again with --force to continue this order")
            raise typer.Exit(3)
        workflow.approve(order.id, force=force)
        with bars.progress:
            order = advance(order.id)
    summary = order_summary(workflow, order)
    if order.status != "delivered":
        err = order.error or {}
        err_console.print(f"error: order {order.id} is {order.status}: "
                          f"{err.get('problem', 'see headshots orders')} — {err.get('fix', '')}")
        raise typer.Exit(1)
    files_out = workflow.export(order.id, out / "delivery")
    runs = workflow.stage_runs(order.id)
    judge, made = runs["judge"].result or {}, runs["generate"].result or {}
    stopped = made.get("stopped_early", 0)
    console.print(f"done: {len(judge.get('selected', []))} headshots of "
                  f"{made.get('requests', 0)} candidates"
                  + (f" ({stopped} stopped early)" if stopped else "")
                  + f" in {out / 'delivery'} ({len(files_out)} files). Your selfies are deleted "
                  f"on {summary['kept_until']['inputs'][:10]}; see `headshots orders`.")


def _advancer(workflow: Any, bars: _Bars) -> Any:
    """In this process, or (HEADSHOTS_BROKER_URL set) on the workers, followed from here."""
    from headshots.cli._follow import Follower, broker_runner

    runner = broker_runner(workflow)
    if runner is None:
        return lambda order_id: workflow.advance(order_id, label="headshots run", listener=bars)
    console.print("stages run on the workers of the broker; Ctrl-C only stops following")
    return Follower(workflow, runner, bars)


def _explain_new(workflow: Any, out: Path, params: Any) -> None:
    """Say why this is a new order when --out held another one."""
    from headshots.orders import OrderParams

    marker = out / "order.json"
    if not marker.is_file():
        return
    try:
        earlier = workflow.get(json.loads(marker.read_text())["order"])
    except Exception:  # noqa: BLE001 - an unreadable or unknown marker just means "new"
        return
    if earlier.status == "deleted" or not earlier.params:
        return
    changed = params.changes(OrderParams(**earlier.params))
    why = f"these settings changed: {', '.join(changed)}" if changed else "the selfies changed"
    console.print(f"a new order, because {why} (the earlier order {earlier.id} is kept as it "
                  "is; see `headshots orders`)")


@app.command()
@friendly_errors
def orders(json_out: JsonOut = None) -> None:
    """Your orders: stage, status, and what is kept until when."""
    from headshots.orders import order_summary

    workflow = _workflow()
    rows = [order_summary(workflow, o) for o in workflow.list_orders("local")]
    if json_out:
        _json_only(json_out, rows)
        return
    table = Table(title=f"Orders in {workflow.store.data_dir}")
    for col in ("order", "status", "stage", "created", "selfies until", "model until",
                "results until"):
        table.add_column(col)
    for r in rows:
        kept = r["kept_until"]
        table.add_row(r["id"], r["status"].replace("_", " "), r["stage"] or "-",
                      r["created_at"][:16].replace("T", " "),
                      *(str(kept[g])[:10] for g in ("inputs", "model", "results")))
    console.print(table)


@app.command()
@friendly_errors
def delete(order_id: str = typer.Argument(..., help="The order to delete now."),
           yes: bool = typer.Option(False, "--yes", help="Do not ask.")) -> None:
    """Delete an order now: selfies, crops, face data, model, results and its key."""
    from headshots.orders import delete_order

    workflow = _workflow()
    workflow.get(order_id, owner="local")
    if not yes and not typer.confirm(f"Delete everything of order {order_id} now?"):
        raise typer.Exit(1)
    receipt = delete_order(workflow.store, order_id, owner="local")
    _print_receipt(receipt)


@app.command()
@friendly_errors
def purge(as_of: datetime | None = typer.Option(
        None, "--as-of", help="Apply the schedule as of this time (default: now).")) -> None:
    """Apply the retention schedule: delete whatever is due. Safe to run from cron."""
    from headshots.orders import purge as run_purge

    when = as_of.replace(tzinfo=as_of.tzinfo or UTC) if as_of else None
    done = run_purge(_workflow().store, as_of=when)
    if not done:
        console.print("nothing was due")
    for receipt in done:
        _print_receipt(receipt)


@app.command()
@friendly_errors
def receipt(order_id: str = typer.Argument(...),
            json_out: JsonOut = None) -> None:
    """Show what was deleted of an order, when (kinds, counts, hashes; no personal data)."""
    from headshots.orders import receipts

    found = receipts(_workflow().store, order_id, owner="local")
    if json_out:
        _json_only(json_out, found)
        return
    if not found:
        console.print(f"nothing of order {order_id} has been deleted yet")
    for r in found:
        _print_receipt(r)


def _json_only(path: Path, data: Any) -> None:
    if not json_to_stdout(path):
        output_file(path, "--json", "orders.json")
    emit_json(path, json.dumps(data, indent=2))
    if str(path) != "-":
        console.print(escape(f"written: {path}"))


def _print_receipt(r: dict[str, Any]) -> None:
    parts = []
    for group, kinds in r["deleted"].items():
        counted = ", ".join(f"{v['count']} {k}" for k, v in sorted(kinds.items())) or "nothing"
        parts.append(f"{group}: {counted}")
    key = "; encryption key destroyed" if r["key_destroyed"] else ""
    console.print(f"order {r['order']} — {r['at'][:19].replace('T', ' ')} UTC ({r['trigger']})"
                  f": deleted {'; '.join(parts)}{key}. Kept: {r['kept']}.")


@app.command()
def retention() -> None:
    """The published retention schedule: what is kept, and when it is deleted."""
    from headshots.config import Settings
    from headshots.orders import retention_text

    console.print(retention_text(Settings().retention))


@app.command(name="consent")
def consent_cmd() -> None:
    """The consent text (and its version) that `headshots run` asks you to agree to."""
    from headshots.config import Settings
    from headshots.orders import consent_text

    console.print(consent_text(Settings().retention))
