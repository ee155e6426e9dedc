"""The order's stages, each an idempotent function of the stored order: it loads its inputs by
order id (decrypting into its scratch folder), calls the pure stage cores, writes its outputs
back (encrypted) and returns a small JSON result. A stage killed half-way resumes: training from
its last stored checkpoint, generation from its stored candidates."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from headshots.config import IntakeConfig
from headshots.errors import PhotoSetError, RuntimeFailure
from headshots.orders._context import StageContext
from headshots.orders._photos import set_report
from headshots.store import blobkeys
from headshots.store._models import CandidateRow, OrderRow
from headshots.types import Reason

__all__ = ["STAGE_FUNCTIONS", "model_arch", "native_resolution"]

_PHOTO_ID = re.compile(r"ph_[0-9a-f]{16}")


def model_arch(base_model: str) -> str | None:
    """'sd15' or 'sdxl' from a local model's index without loading it; None when unknown."""
    index = Path(base_model) / "model_index.json"
    try:
        name = json.loads(index.read_text()).get("_class_name", "")
    except (OSError, ValueError):
        return None
    return {"StableDiffusionPipeline": "sd15", "StableDiffusionXLPipeline": "sdxl"}.get(name)


def native_resolution(ctx: StageContext) -> int:
    return ctx.params.resolution or (1024 if model_arch(ctx.params.base_model) == "sdxl"
                                     else 512)


# -- check and prepare ------------------------------------------------------------------------

def run_check(ctx: StageContext) -> dict[str, Any]:
    report = set_report(ctx.store, ctx.order_id, IntakeConfig())
    ctx.store.put(ctx.order_id, blobkeys.intake(ctx.order_id, "report.json"),
                  report.to_json().encode(), "intake_report")
    accepted = [p.file for p in report.accepted]
    need = ctx.params.train_config().min_photos
    if len(accepted) < need:  # even an explicitly allowed unready set needs this many
        raise PhotoSetError(f"only {len(accepted)} of the photos are usable; training needs at "
                            f"least {need} (8-20 recommended)",
                            "add more usable photos, then start again")
    if not report.set.ready and not ctx.params.allow_unready:
        advice = report.set.advice[0] if report.set.advice else "add more usable photos"
        raise PhotoSetError(f"the photos are not ready to train ({len(accepted)} accepted): "
                            f"{advice}", "add or replace photos, then start again")
    return {"accepted": accepted, "ready": report.set.ready, "advice": report.set.advice,
            "rejected": {p.file: [r.value for r in p.reasons] for p in report.photos
                         if not p.accepted}}


def run_prepare(ctx: StageContext) -> dict[str, Any]:
    from headshots.intake import prepare_crops

    report = set_report(ctx.store, ctx.order_id, IntakeConfig())
    accepted = [p.file for p in report.accepted]
    ctx.store.delete_prefix(ctx.order_id, blobkeys.group_prefix(ctx.order_id, "inputs")
                            + "crops/")  # crops of photos since removed must not survive
    sources = []
    for i, photo_id in enumerate(accepted):
        path = ctx.scratch / "selfies" / f"{photo_id}.jpg"
        ctx.store.get_file(ctx.order_id, blobkeys.selfie(ctx.order_id, photo_id), path)
        sources.append((photo_id, path))
        ctx.progress(i + 1, 2 * len(accepted), "decrypting photos")
    res = native_resolution(ctx)
    crops = prepare_crops(report, sources, ctx.runtime.backend(), ctx.scratch / "crops",
                          IntakeConfig(crop_resolution=res))
    for i, path in enumerate(crops.paths):
        assert _PHOTO_ID.search(path.stem), path.name  # crops are named after their photo
        ctx.store.put_file(ctx.order_id, blobkeys.crop(ctx.order_id, path.stem), path, "crop")
        ctx.progress(len(accepted) + i + 1, 2 * len(accepted), "training crops")
    ctx.store.put_file(ctx.order_id, blobkeys.crops_manifest(ctx.order_id), crops.manifest,
                       "crop_manifest")
    return {"crops": len(crops), "resolution": res, "enlarged": len(crops.upscaled)}


def restore_crops(ctx: StageContext) -> Path:
    folder = ctx.scratch / "crops"
    prefix = blobkeys.group_prefix(ctx.order_id, "inputs") + "crops/"
    for key in ctx.store.keys(ctx.order_id, prefix):
        ctx.store.get_file(ctx.order_id, key, folder / key[len(prefix):])
    return folder


def crop_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.png"))


# -- train --------------------------------------------------------------------------------------

def run_train(ctx: StageContext) -> dict[str, Any]:
    from headshots.finetune import FaceLikenessScorer, train_lora
    from headshots.store.paths import RunPaths

    crops = restore_crops(ctx)
    run = RunPaths(ctx.scratch / "run")
    prefix = blobkeys.checkpoints_prefix(ctx.order_id)
    restored = ctx.store.keys(ctx.order_id, prefix)
    for key in restored:  # resume from what the last attempt stored
        step, name = key[len(prefix):].split("/", 1)
        ctx.store.get_file(ctx.order_id, key, run.checkpoint(int(step)) / name)

    def sync(directory: Path) -> None:
        step = int(directory.name.rsplit("-", 1)[1])
        # the resume state goes last: a checkpoint whose state is stored is complete
        for f in sorted((p for p in directory.rglob("*") if p.is_file()),
                        key=lambda p: (p.name == "training_state.pt", p.name)):
            ctx.store.put_file(ctx.order_id, blobkeys.checkpoint(
                ctx.order_id, step, f.relative_to(directory).as_posix()), f, "checkpoint")
        kept = {p.name.rsplit("-", 1)[1] for p in run.train.glob("checkpoint-*") if p.is_dir()}
        for key in ctx.store.keys(ctx.order_id, prefix):  # mirror the trainer's pruning
            if key[len(prefix):].split("/", 1)[0] not in kept:
                ctx.store.delete_prefix(ctx.order_id, key)

    config = ctx.params.train_config()
    scorer = FaceLikenessScorer(ctx.runtime.backend())  # the trainer picks the references
    model = ctx.runtime.load_model(ctx.params.base_model)
    ctx.progress(0, config.total_steps(len(crop_files(crops))), "training")
    result = train_lora(crops, model, run.root, config, scorer=scorer,
                        device=ctx.runtime.device, resume=None,
                        on_progress=lambda d, t, loss: ctx.progress(d, t, f"loss {loss:.4f}"),
                        on_checkpoint=sync)
    assert result.lora is not None
    for path, name, kind in ((result.lora, "lora.safetensors", "lora"),
                             (run.train_report, "train_report.json", "train_report"),
                             (run.train / "training.png", "training.png", "train_plot")):
        if path.exists():
            ctx.store.put_file(ctx.order_id, blobkeys.model(ctx.order_id, name), path, kind)
    for extra in sorted(run.train.glob("*.safetensors")):  # e.g. the kohya-format copy
        if extra != result.lora:
            ctx.store.put_file(ctx.order_id, blobkeys.model(ctx.order_id, extra.name), extra,
                               "lora")
    report = result.report
    return {"steps": len(report.get("loss", [])), "resumed_from": report.get("resumed_from"),
            "chosen_checkpoint": report.get("chosen_checkpoint"),
            "chosen_because": report.get("chosen_because"),
            "final_loss": report["loss"][-1] if report.get("loss") else None}


# -- generation (preview and the full run) ----------------------------------------------------

def restore_lora(ctx: StageContext) -> Path:
    from headshots.finetune import LORA_NAME

    folder = ctx.scratch / "model"
    ctx.store.get_file(ctx.order_id, blobkeys.model(ctx.order_id, "lora.safetensors"),
                       folder / LORA_NAME)
    return folder


def candidate_rows(ctx: StageContext, area: str) -> list[CandidateRow]:
    with ctx.store.db.session() as s:
        return list(s.scalars(select(CandidateRow).where(
            CandidateRow.order_id == ctx.order_id, CandidateRow.area == area)
            .order_by(CandidateRow.id)))


def restore_candidates(ctx: StageContext, area: str, only: set[str] | None = None
                       ) -> tuple[Path, list[dict[str, Any]]]:
    """The area's stored candidates (of the request ids ``only``, if given) back in a folder
    with their index.jsonl."""
    folder = ctx.scratch / area
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for row in candidate_rows(ctx, area):
        if only is not None and row.request_id not in only:
            continue
        record = dict(row.record or {})
        if row.blob_key:
            ctx.store.get_file(ctx.order_id, row.blob_key, folder / record["file"])
        records.append(record)
    (folder / "index.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    return folder, records


def _generate(ctx: StageContext, area: str, count: int, seed: int, early: bool,
              part: tuple[int, int] | None = None
              ) -> tuple[Path, list[Any], list[dict[str, Any]], int]:
    """Generate what is not stored yet; returns the folder, the candidates, every request's
    record and how many were restored (made by an earlier attempt)."""
    from headshots.generate import (
        DiffusersGenerator,
        Identity,
        face_early_check,
        generate_candidates,
        plan_requests,
    )

    identity = Identity(token=ctx.params.token, class_word=ctx.params.class_word)
    res = native_resolution(ctx)
    requests = plan_requests(ctx.params.style_list(), identity, count, seed=seed,
                             size=(res, res), steps=ctx.params.sample_steps,
                             guidance=ctx.params.guidance)
    if part is not None:  # one chunk of the plan: the same plan everywhere, split in order
        k, n = part
        size = -(-len(requests) // n)
        requests = requests[k * size:(k + 1) * size]
    folder, restored = restore_candidates(ctx, area, {r.id for r in requests} if part else None)
    index = folder / "index.jsonl"
    offset = index.stat().st_size
    check = face_early_check(ctx.runtime.backend()) if early else None
    config = ctx.params.generate_config()
    model = ctx.runtime.generation_model(ctx.params.base_model,
                                         (config.precision, config.safety_checker))
    generator = DiffusersGenerator(model, lora=restore_lora(ctx), config=config,
                                   device=ctx.runtime.device, early_check=check,
                                   keep_pipeline=ctx.runtime.share_pipelines)

    def tick(done: int, total: int, _name: str) -> None:
        nonlocal offset
        with index.open("rb") as f:  # store what the generator appended since last time
            f.seek(offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        offset += len(complete)
        for line in complete.decode().splitlines():
            _keep_candidate(ctx, area, folder, json.loads(line))
        ctx.progress(done, total, "generating")

    try:
        candidates, records = generate_candidates(generator, requests, folder, batch_size=4,
                                                  on_progress=tick)
    finally:
        generator.release()  # the person's LoRA leaves a shared pipeline with the stage
    return folder, candidates, records, len(restored)


def _keep_candidate(ctx: StageContext, area: str, folder: Path, record: dict[str, Any]) -> None:
    key = None
    if record.get("file"):
        key = blobkeys.result(ctx.order_id, area, record["file"])
        ctx.store.put_file(ctx.order_id, key, folder / record["file"], "candidate")
    with ctx.store.db.session() as s:
        exists = s.scalar(select(CandidateRow.id).where(
            CandidateRow.order_id == ctx.order_id, CandidateRow.area == area,
            CandidateRow.request_id == record["id"]))
        if exists is None:
            s.add(CandidateRow(order_id=ctx.order_id, area=area, request_id=record["id"],
                               blob_key=key, record=record, created_at=ctx.store.clock.now()))


def _judge(ctx: StageContext, candidates: list[Any], records: list[dict[str, Any]],
           top: int | None, workers: int) -> tuple[list[Any], list[str], Any, dict[str, Any]]:
    from headshots.pipeline import early_records, judge_against, judge_report, load_references

    refs = load_references(crop_files(restore_crops(ctx)))
    results, selected, calibration = judge_against(
        candidates, refs, top=top, backend=ctx.runtime.backend(), workers=workers,
        on_progress=lambda d, t, _n: ctx.progress(d, t, "judging"))
    report = judge_report(results, selected, calibration, early_records(records),
                          name=lambda r: r.candidate.path.name)
    return results, selected, calibration, report


def run_preview(ctx: StageContext) -> dict[str, Any]:
    from headshots.pipeline import preview_verdict

    _, candidates, records, _ = _generate(ctx, "preview", ctx.params.preview_count,
                                          ctx.params.seed + 10_000, early=False)
    results, _, _, report = _judge(ctx, candidates, records, ctx.params.preview_count, 1)
    verdict = preview_verdict(results).to_dict()
    ctx.store.put(ctx.order_id, blobkeys.result(ctx.order_id, "preview", "verdict.json"),
                  json.dumps({"verdict": verdict, "judge": report}).encode(), "preview")
    with ctx.store.db.session() as s:
        s.execute(update(OrderRow).where(OrderRow.id == ctx.order_id).values(preview=verdict))
    return verdict


def run_generate(ctx: StageContext) -> dict[str, Any]:
    _, candidates, records, _ = _generate(ctx, "candidates", ctx.params.candidates,
                                          ctx.params.seed, early=ctx.params.early_reject)
    return {"candidates": len(candidates), "requests": len(records),
            "stopped_early": len(records) - len(candidates)}


def run_generate_part(ctx: StageContext, index: int, count: int) -> dict[str, Any]:
    """Chunk ``index`` of ``count`` of the full generation (see ``orders._parts``)."""
    _, candidates, records, restored = _generate(ctx, "candidates", ctx.params.candidates,
                                                 ctx.params.seed, early=ctx.params.early_reject,
                                                 part=(index, count))
    return {"candidates": len(candidates), "requests": len(records),
            "made": len(records) - restored}


def run_judge(ctx: StageContext) -> dict[str, Any]:
    from headshots.generate import candidate_from_record

    folder, records = restore_candidates(ctx, "candidates")
    candidates = [candidate_from_record(r, folder) for r in records if r.get("file")]
    results, selected, _, report = _judge(ctx, candidates, records, ctx.params.top,
                                          ctx.runtime.judge_workers)
    ctx.store.put(ctx.order_id, blobkeys.result(ctx.order_id, "judge", "report.json"),
                  json.dumps(report).encode(), "judge_report")
    counts: dict[str, int] = {}
    for c in report["candidates"]:
        for reason in c["reasons"]:
            counts[reason] = counts.get(reason, 0) + 1
    return {"judged": len(results), "accepted": sum(r.accepted for r in results),
            "selected": selected, "reasons": counts}


def run_deliver(ctx: StageContext) -> dict[str, Any]:
    from headshots.deliver import CandidateRecord, LikenessCalibration, Selection, deliver

    report = json.loads(ctx.store.get(ctx.order_id, blobkeys.result(
        ctx.order_id, "judge", "report.json")))
    folder = ctx.scratch / "candidates"
    keys = {r.request_id: r.blob_key for r in candidate_rows(ctx, "candidates")}
    records = []
    for c in report["candidates"]:
        if c.get("stopped_early"):
            records.append(CandidateRecord.stopped(
                Reason(c["reasons"][0]), style=c["style"], seed=c["seed"],
                step=c.get("stopped_at_step")))
            continue
        path = folder / c["file"]
        if c["selected"]:
            key = keys.get(c["id"])
            if key is None:
                raise RuntimeFailure(f"selected candidate {c['id']} has no stored image",
                                     "re-run the order's generate stage")
            ctx.store.get_file(ctx.order_id, key, path)
        records.append(CandidateRecord(file=path, style=c["style"], seed=c["seed"],
                                       accepted=c["accepted"], reasons=tuple(c["reasons"]),
                                       scores=c["scores"], selected=c["selected"],
                                       rank=c["rank"]))
    cal = report["calibration"]
    selection = Selection(candidates=tuple(records), calibration=LikenessCalibration(
        references=cal["references"], baseline_distance=cal["baseline_distance"],
        threshold=cal["threshold"], method=cal["method"]))
    out = ctx.scratch / "delivery"
    deliver(selection, out, backend=ctx.runtime.backend(),
            progress=lambda d, t, _n: ctx.progress(d, t, "delivering"))
    files = sorted(p for p in out.rglob("*") if p.is_file())
    ctx.store.delete_prefix(ctx.order_id, blobkeys.group_prefix(ctx.order_id, "results")
                            + "delivery/")
    for f in files:
        ctx.store.put_file(ctx.order_id, blobkeys.result(
            ctx.order_id, "delivery", f.relative_to(out).as_posix()), f, "delivery")
    return {"files": len(files), "selected": len(selection.selected)}


STAGE_FUNCTIONS: dict[str, Callable[[StageContext], dict[str, Any]]] = {
    "check": run_check, "prepare": run_prepare, "train": run_train, "preview": run_preview,
    "generate": run_generate, "judge": run_judge, "deliver": run_deliver,
}
