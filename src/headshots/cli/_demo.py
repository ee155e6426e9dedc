"""``headshots demo``: the whole product on the bundled sample photos, offline, in seconds."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import typer
from PIL import Image

from headshots.cli import app
from headshots.cli._common import console, friendly_errors


def _samples(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for entry in (resources.files("headshots") / "samples").iterdir():
        if entry.name.endswith(".jpg"):
            with resources.as_file(entry) as src:
                shutil.copyfile(src, folder / entry.name)
    return folder


@app.command()
@friendly_errors
def demo(
    out: Path = typer.Option(Path("demo-out"), "--out", help="Where to write the results."),
    tiny: bool = typer.Option(True, "--tiny/--no-tiny",
                              help="Also run train + generate on a tiny random model."),
) -> None:
    """Run the main job on the bundled public-domain sample photos, offline:
    check and prepare them, judge and deliver them as stand-in candidates, and (with --tiny)
    train and generate on a tiny random diffusion model."""
    from headshots.cli._intake import _prepare
    from headshots.cli._judge import deliver_results, judge_folder, print_summary, write_json
    from headshots.store.paths import RunPaths

    paths = RunPaths(out)
    selfies = _samples(out / "sample-selfies")
    console.rule("[bold]1. check and prepare the selfies")
    _prepare(selfies, out, 512)

    console.rule("[bold]2. judge, select and deliver (sample photos stand in for generated ones)")
    candidates = _samples(out / "stand-in-candidates")
    with Image.open(candidates / "obama2.jpg") as im:  # a mirrored variant: same person, new look
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(candidates / "obama2-mirrored.jpg")
    from headshots.cli._judge import load_candidates, reference_images

    results, selected, calibration = judge_folder(
        load_candidates(candidates), reference_images(paths.crops), 100, 1)
    print_summary(results, selected, calibration)
    write_json(paths.judge_report, results, selected, calibration)
    from headshots.deliver import DeliverConfig, Inputs

    # the stand-ins are real photographs: they must not be labelled AI-generated
    delivered = deliver_results(results, selected, calibration, paths.delivery,
                                config=DeliverConfig(inputs=Inputs.STAND_IN))
    console.print(f"delivered {len(selected)} demo stand-ins (real photographs, labelled as such "
                  f"in XMP + C2PA, not as AI-generated) to {paths.delivery}")

    if tiny:
        console.rule("[bold]3. an order on the embedded default, with a tiny random model "
                     "(its output is noise)")
        _tiny_order(out, selfies)
    console.print(f"[bold]demo done[/]: intake {paths.intake_report}, sheet {paths.intake_sheet}, "
                  f"contact sheet {delivered.contact_sheet}")


def _tiny_order(out: Path, selfies: Path) -> None:
    """The main job as a person's order runs it — consent, photos, prepare, train, preview,
    approval, generate, judge, deliver — in ``out/data`` (SQLite, encrypted blobs), then its
    deletion and receipt. The tiny model draws noise, which the judge rejects, as it should."""
    from headshots.cli._orders import _Bars, _print_receipt
    from headshots.config import Settings
    from headshots.orders import (
        CONSENT_VERSION,
        ConsentChoice,
        OrderParams,
        Runtime,
        Workflow,
        delete_order,
        order_summary,
    )
    from headshots.store import open_store
    from headshots.testing.tiny_models import build_tiny_pipeline

    model = build_tiny_pipeline(out / "tiny-model", "sd15")
    store = open_store(Settings(data_dir=out / "data"))
    workflow = Workflow(store, Runtime(device="cpu", judge_workers=1))
    params = OrderParams(
        base_model=str(model.resolve()), resolution=64, candidates=4, preview_count=2,
        sample_steps=4, early_reject=False, allow_unready=True, train_steps=6, rank=4,
        learning_rate=1e-2, styles=("corporate-grey", "navy-blazer"),
        train_overrides={"checkpoint_every": 3, "validation_steps": 2, "validation_images": 1,
                         "min_photos": 1})
    # the bundled photos are public domain; the demo records consent for them as a person would
    order_id = workflow.create_order(params, ConsentChoice(version=CONSENT_VERSION,
                                                           subject="demo", channel="demo"))
    for photo in sorted(selfies.iterdir()):
        workflow.add_photo(order_id, photo.name, photo.read_bytes())
    workflow.start(order_id)
    bars = _Bars()
    with bars.progress:
        order = workflow.advance(order_id, label="headshots demo", listener=bars)
        why = (order.preview or {}).get("why")
        console.print(f"preview: NO-GO as expected — {why}; approved anyway to show every stage")
        workflow.approve(order_id, force=True)
        order = workflow.advance(order_id, label="headshots demo", listener=bars)
    exported = workflow.export(order_id, out / "tiny-order")
    runs = workflow.stage_runs(order_id)
    made, judged = runs["generate"].result or {}, runs["judge"].result or {}
    summary = {"status": order.status, "candidates": made.get("requests"),
               "accepted": judged.get("accepted"), "reasons": judged.get("reasons"),
               "kept_until": order_summary(workflow, order)["kept_until"]}
    (out / "tiny-order" / "summary.json").write_text(json.dumps(summary, indent=2))
    reasons = ", ".join(f"{k} ×{v}" for k, v in (summary["reasons"] or {}).items())
    console.print(f"order {order_id}: {order.status}; {len(exported)} files in "
                  f"{out / 'tiny-order'}; judged: {reasons or 'all accepted'}")
    console.print("deleting the order now, as `headshots delete` would:")
    _print_receipt(delete_order(store, order_id))
    store.close()
