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
        console.rule("[bold]3. fine-tune and generate on a tiny random model (output is noise)")
        _tiny_run(out, paths)
    console.print(f"[bold]demo done[/]: intake {paths.intake_report}, sheet {paths.intake_sheet}, "
                  f"contact sheet {delivered.contact_sheet}")


def _tiny_run(out: Path, paths: object) -> None:
    from headshots.cli._generate import diffusers_generator, make_requests, run_generation
    from headshots.cli._judge import judge_folder, load_candidates, print_summary, reference_images
    from headshots.faces import default_backend
    from headshots.finetune import FaceLikenessScorer, TrainConfig, train_lora
    from headshots.finetune._data import list_images
    from headshots.media import decode_image
    from headshots.store.paths import RunPaths
    from headshots.testing.tiny_models import build_tiny_pipeline

    run = RunPaths(out / "tiny-run")
    model = build_tiny_pipeline(out / "tiny-model", "sd15")
    crops = RunPaths(out).crops
    refs = [decode_image(p).pixels for p in list_images(crops)]
    config = TrainConfig(steps=6, resolution=64, learning_rate=1e-2, rank=4, alpha=4,
                         checkpoint_every=3, validation_steps=2, validation_images=1,
                         min_photos=1)
    result = train_lora(crops, model, run.root, config, device="cpu", resume=False,
                        scorer=FaceLikenessScorer(default_backend(), refs))
    console.print(f"trained 6 steps; chosen checkpoint {result.report['chosen_checkpoint']}: "
                  f"{result.report['chosen_because']}")
    gen = diffusers_generator(str(model), run.root, "cpu", early=False)
    requests = make_requests("corporate-grey,navy-blazer", None, None, 4, 0, "person", "sks",
                             64, 4, None, "sd15")
    run_generation(gen, requests, run.candidates, 4, refresh=True)  # retrained from scratch
    results, selected, calibration = judge_folder(load_candidates(run.candidates),
                                                  reference_images(crops), 100, 1)
    print_summary(results, selected, calibration)
    (run.root / "summary.json").write_text(json.dumps({
        "accepted": sum(r.accepted for r in results), "candidates": len(results)}))
