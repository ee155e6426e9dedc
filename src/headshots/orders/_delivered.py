"""What an order delivered, as front ends show it: every candidate with its verdict, the
labelled images one by one, the selection as one zip; the style catalog; and "more of a style"
from a kept model (a follow-up order that shares the model).

Every image that leaves here carries the AI-generated label: delivered files already have XMP
and C2PA; a candidate that was not delivered is re-encoded with the same XMP label on the way
out. Image ids are opaque (a hash of the order and the stored key), never sequential.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, update

from headshots.errors import ConflictError, InputError, NotFoundError
from headshots.orders._consent import ConsentChoice
from headshots.orders._params import OrderParams
from headshots.orders._workflow import Workflow
from headshots.store import blobkeys
from headshots.store._models import BlobRow, CandidateRow, OrderRow, StageRunRow
from headshots.types import Reason

__all__ = ["delivery_zip", "more_of_style", "order_results", "preview_images", "result_image",
           "style_catalog"]

_DELIVERY = "delivery/"
_MEDIA = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
          ".md": "text/markdown; charset=utf-8", ".json": "application/json",
          ".pem": "application/x-pem-file"}
_AI_DESCRIPTION = ("AI-generated image made by headshots from the person's own selfies; not a "
                   "photograph")


def image_id(order_id: str, key: str) -> str:
    return "img_" + hashlib.sha256(f"{order_id}/{key}".encode()).hexdigest()[:24]


def style_catalog() -> list[dict[str, Any]]:
    from headshots.generate import builtin_styles

    return [{"id": s.id, "title": s.title, "wardrobe": s.wardrobe, "backdrop": s.backdrop,
             "lighting": s.lighting, "framing": s.framing} for s in builtin_styles().values()]


def _reasons(codes: list[str]) -> list[dict[str, str]]:
    out = []
    for code in codes:
        try:
            r = Reason(code)
            out.append({"code": code, "explanation": r.explanation, "fix": r.fix})
        except ValueError:
            out.append({"code": code, "explanation": code, "fix": ""})
    return out


def _delivered(workflow: Workflow, order_id: str) -> OrderRow:
    order = workflow.get(order_id)
    if order.status != "delivered":
        raise ConflictError(f"order {order_id} is {order.status.replace('_', ' ')}; results are "
                            "ready once it is delivered",
                            "follow its progress (status or events) and come back then")
    if order.results_purged_at is not None:
        raise ConflictError(f"the results of order {order_id} were deleted on schedule",
                            "results are kept 30 days after delivery; start a new order")
    return order


def _delivery_keys(workflow: Workflow, order_id: str) -> list[str]:
    return workflow.store.keys(order_id, blobkeys.group_prefix(order_id, "results") + _DELIVERY)


def order_results(workflow: Workflow, order_id: str) -> dict[str, Any]:
    """Every candidate with its verdict, reasons and scores, the selected ones first (by
    rank), each with the ids of its labelled images; plus the delivery's labels and note."""
    _delivered(workflow, order_id)
    store = workflow.store
    judge = json.loads(store.get(order_id, blobkeys.result(order_id, "judge", "report.json")))
    prefix = blobkeys.group_prefix(order_id, "results") + _DELIVERY
    report = json.loads(store.get(order_id, prefix + "report.json"))
    by_rank = {c["rank"]: c.get("delivered", []) for c in report["candidates"] if c.get("rank")}
    with store.db.session() as s:
        keys = {r.request_id: r.blob_key for r in s.scalars(select(CandidateRow).where(
            CandidateRow.order_id == order_id, CandidateRow.area == "candidates"))}
    candidates = []
    for c in judge["candidates"]:
        key = keys.get(c["id"]) if c.get("file") else None
        candidates.append({
            "id": c["id"], "image_id": image_id(order_id, key) if key else None,
            "style": c["style"], "seed": c["seed"], "accepted": c["accepted"],
            "selected": c["selected"], "rank": c["rank"],
            "stopped_early": bool(c.get("stopped_early")), "reasons": _reasons(c["reasons"]),
            "details": [str(d) for d in c.get("details", [])],
            "scores": {k: float(v) for k, v in (c.get("scores") or {}).items()
                       if isinstance(v, int | float)},
            "delivered": [{"image_id": image_id(order_id, prefix + d["file"]),
                           "framing": d["framing"], "width": d["width"], "height": d["height"]}
                          for d in by_rank.get(c["rank"], [])],
        })
    candidates.sort(key=lambda c: (not c["selected"], c["rank"] or 0, not c["accepted"],
                                   -c["scores"].get("rank_score", 0.0)))
    files = {name: image_id(order_id, prefix + file)
             for name, file in report.get("files", {}).items()}
    usage = store.get(order_id, prefix + report["files"]["usage"]).decode() \
        if "usage" in report.get("files", {}) else ""
    return {"order_id": order_id, "ai_generated": bool(report["labels"].get("ai_generated")),
            "labels": report["labels"], "usage_note": usage, "summary": report["summary"],
            "rejection_counts": report.get("rejection_counts", {}), "files": files,
            "candidates": candidates}


def preview_images(workflow: Workflow, order_id: str) -> list[dict[str, Any]]:
    """The preview's candidates (ids of their labelled images) with the preview's verdict."""
    with workflow.store.db.session() as s:
        rows = list(s.scalars(select(CandidateRow).where(
            CandidateRow.order_id == order_id, CandidateRow.area == "preview")
            .order_by(CandidateRow.id)))
    return [{"id": r.request_id, "image_id": image_id(order_id, r.blob_key) if r.blob_key
             else None, "style": (r.record or {}).get("style")} for r in rows]


def _image_keys(workflow: Workflow, order_id: str) -> list[str]:
    order = workflow.get(order_id)
    if order.results_purged_at is not None or order.status == "deleted":
        return []
    return workflow.store.keys(order_id, blobkeys.group_prefix(order_id, "results"))


def result_image(workflow: Workflow, order_id: str, wanted: str) -> tuple[bytes, str, str]:
    """(bytes, media type, file name) of one image or file of the order's results."""
    for key in _image_keys(workflow, order_id):
        if image_id(order_id, key) != wanted or key.endswith(".json"):
            continue
        data = workflow.store.get(order_id, key)
        name = key.rsplit("/", 1)[1]
        ext = "." + name.rsplit(".", 1)[-1].lower()
        if f"/{_DELIVERY}" not in key and ext in (".png", ".jpg", ".jpeg"):
            data, ext = _labelled(data), ".png"  # a candidate: the label goes on the way out
            name = name.rsplit(".", 1)[0] + ".png"
        return data, _MEDIA.get(ext, "application/octet-stream"), name
    raise NotFoundError(f"image {wanted} is not in order {order_id}",
                        "take image ids from the order's results or preview")


def _labelled(data: bytes) -> bytes:
    import numpy as np
    from PIL import Image

    from headshots.deliver import encode_labelled, xmp_packet

    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im.convert("RGB"))
    return encode_labelled(pixels, "PNG", xmp_packet(description=_AI_DESCRIPTION,
                                                     creator_tool="headshots"))


class _Sink(io.RawIOBase):
    """A write-only stream that hands out what was written (zip without a temporary file)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        data = bytes(b)
        self.chunks.append(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def delivery_zip(workflow: Workflow, order_id: str) -> Iterator[bytes]:
    """The delivered selection as a zip, streamed: the labelled images (XMP + C2PA), the
    contact sheet, the report and the usage note. Nothing decrypted touches the disk."""
    _delivered(workflow, order_id)
    prefix = blobkeys.group_prefix(order_id, "results") + _DELIVERY
    keys = _delivery_keys(workflow, order_id)

    def chunks() -> Iterator[bytes]:
        sink = _Sink()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as zf:
            for key in keys:
                zf.writestr(f"headshots-{order_id}/{key[len(prefix):]}",
                            workflow.store.get(order_id, key))
                yield sink.drain()
        yield sink.drain()

    return chunks()


def more_of_style(workflow: Workflow, order_id: str, *, style: str, count: int,
                  consent: ConsentChoice, owner: str) -> str:
    """A follow-up order on a kept model: generate ``count`` more candidates of ``style``
    (new seeds), judged against the same person and delivered like any order.

    The follow-up shares the model by copy (re-encrypted under its own data key, so deleting
    either order never breaks the other) together with the training crops the judge compares
    against; its check, prepare, train and preview stages are recorded as shared, and it is
    approved by this request. Its own retention dates start when it is delivered."""
    parent = workflow.get(order_id, owner=owner)
    if parent.status != "delivered" or not parent.keep_model or parent.model_purged_at:
        raise ConflictError(f"order {order_id} has no kept model to make more from",
                            "choose 'keep my model' when ordering (or in the order's settings "
                            "before its model is deleted), then ask again once it is delivered")
    if parent.inputs_purged_at is not None:
        raise ConflictError(f"the selfies of order {order_id} were deleted on schedule, so new "
                            "images cannot be checked for likeness",
                            "start a new order with new selfies")
    params = OrderParams(**parent.params)
    if style not in {s["id"] for s in style_catalog()}:
        raise InputError(f"style {style!r} is not in the catalog", "pick one from /styles")
    with workflow.store.db.session() as s:
        n = len(list(s.scalars(select(OrderRow.id).where(OrderRow.owner == owner))))
    child_params = params.model_copy(update={
        "styles": (style,), "prompt": None, "custom_styles": (), "candidates": count,
        "top": None if params.top is None else min(params.top, count),
        "seed": params.seed + 7919 * (n + 1)})
    child = workflow.create_order(OrderParams(**child_params.model_dump()), consent,
                                  owner=owner)
    store = workflow.store
    with store.db.session() as s:
        inventory = {r.key: r.kind for r in s.scalars(select(BlobRow).where(
            BlobRow.order_id == order_id))}
    for group, kinds in (("model", None), ("inputs", ("crops/",))):
        prefix = blobkeys.group_prefix(order_id, group)  # type: ignore[arg-type]
        for key in store.keys(order_id, prefix):
            rest = key[len(prefix):]
            if group == "model" and rest.startswith("checkpoints/"):
                continue  # training is done: the LoRA and its report are what is shared
            if kinds is not None and not rest.startswith(kinds):
                continue
            new_key = blobkeys.group_prefix(child, group) + rest  # type: ignore[arg-type]
            store.put(child, new_key, store.get(order_id, key), inventory.get(key, "shared"))
    now = store.clock.now()
    with store.db.session() as s:
        for stage in ("check", "prepare", "train", "preview"):
            s.add(StageRunRow(order_id=child, stage=stage, part="", status="done", attempts=0,
                              progress_done=0, progress_total=0, finished_at=now,
                              result={"shared_from": order_id}))
        s.execute(update(OrderRow).where(OrderRow.id == child).values(
            status="queued", queued_at=now, approved_at=now, preview=parent.preview))
    return child
