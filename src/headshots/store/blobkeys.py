"""Every blob key is made here, so storing, purging and receipts agree on one map.

::

    orders/<order>/inputs/selfies/<photo>.png       re-encoded, metadata-free upload
    orders/<order>/inputs/crops/<photo>.png          aligned training crop
    orders/<order>/inputs/crops/manifest.json        crop geometry (sizes, corners)
    orders/<order>/inputs/intake/...                 intake report, embeddings
    orders/<order>/model/lora.safetensors ...        fine-tuned model, its report
    orders/<order>/model/checkpoints/<step>/<file>   resumable training state
    orders/<order>/results/preview/...               preview candidates and verdict
    orders/<order>/results/candidates/<file>         generated candidates
    orders/<order>/results/judge/report.json         every verdict
    orders/<order>/results/delivery/<file>           delivered, labelled headshots

The second path part is the retention group (``inputs``, ``model``, ``results``): each group
has its own deletion date in the published schedule.
"""

from __future__ import annotations

from typing import Literal

from headshots.store._blobs import check_key

__all__ = ["GROUPS", "Group", "group_of", "order_prefix", "group_prefix", "selfie", "crop",
           "crops_manifest", "intake", "model", "checkpoint", "checkpoints_prefix", "result"]

Group = Literal["inputs", "model", "results"]
GROUPS: tuple[Group, ...] = ("inputs", "model", "results")


def order_prefix(order_id: str) -> str:
    return check_key(f"orders/{order_id}") + "/"


def group_prefix(order_id: str, group: Group) -> str:
    if group not in GROUPS:
        raise ValueError(f"unknown retention group {group!r}")
    return f"{order_prefix(order_id)}{group}/"


def group_of(key: str) -> Group:
    parts = key.split("/")
    if len(parts) < 4 or parts[0] != "orders" or parts[2] not in GROUPS:
        raise ValueError(f"{key!r} is not an order blob key")
    return parts[2]  # type: ignore[return-value,unused-ignore]


def _key(order_id: str, group: Group, *rest: str) -> str:
    return check_key(group_prefix(order_id, group) + "/".join(rest))


def selfie(order_id: str, photo_id: str) -> str:
    return _key(order_id, "inputs", "selfies", f"{photo_id}.png")


def crop(order_id: str, photo_id: str) -> str:
    return _key(order_id, "inputs", "crops", f"{photo_id}.png")


def crops_manifest(order_id: str) -> str:
    return _key(order_id, "inputs", "crops", "manifest.json")


def intake(order_id: str, name: str) -> str:
    return _key(order_id, "inputs", "intake", name)


def model(order_id: str, name: str) -> str:
    return _key(order_id, "model", name)


def checkpoints_prefix(order_id: str) -> str:
    return group_prefix(order_id, "model") + "checkpoints/"


def checkpoint(order_id: str, step: int, name: str) -> str:
    return check_key(f"{checkpoints_prefix(order_id)}{step:06d}/{name}")


def result(order_id: str, area: str, name: str) -> str:
    """``area``: preview, candidates, judge or delivery; ``name`` may hold sub-folders."""
    if area not in ("preview", "candidates", "judge", "delivery"):
        raise ValueError(f"unknown result area {area!r}")
    return _key(order_id, "results", area, name)
