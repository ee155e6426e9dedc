"""Scratch left behind on this machine: a process killed mid-stage leaves plain files (decrypted
selfies, crops, a LoRA) in its scratch folder. The next holder of the stage wipes it on entry and
the purge wipes it by order, but only on the machine where each runs: with workers on several
machines the stage may resume elsewhere, so every process that runs stages sweeps its own
machine's scratch before it starts one."""

from __future__ import annotations

import logging
import shutil
import time

from sqlalchemy import select

from headshots.orders._lease import _holder_is_dead
from headshots.store import Store
from headshots.store._models import StageRunRow

__all__ = ["sweep_scratch"]

log = logging.getLogger("headshots.orders")


def sweep_scratch(store: Store, *, grace_seconds: float = 60.0) -> int:
    """Remove every order's scratch folder that no running stage may be using (no stage of
    the order is running, or only in processes of this machine that are gone); returns how
    many folders went. Folders younger than ``grace_seconds`` stay: a
    stage claimed a moment ago may be creating its folder right now."""
    root = store.scratch_root
    if not root.is_dir():
        return 0
    removed = 0
    now = time.time()
    for folder in sorted(root.iterdir()):
        try:
            if now - folder.stat().st_mtime < grace_seconds:
                continue
        except FileNotFoundError:
            continue
        with store.db.session() as s:
            owners = s.scalars(select(StageRunRow.lease_owner).where(
                StageRunRow.order_id == folder.name, StageRunRow.status == "running"))
            # a live process here, or one on another machine (which shares this folder when
            # the data folder is on shared storage; swept once that stage ends)
            in_use = any(o and not _holder_is_dead(o) for o in owners)
        if not in_use:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        log.info("removed %d scratch folder(s) left by stopped processes", removed)
    return removed
