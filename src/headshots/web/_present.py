"""How the page shows an order: one row per stage (done, running, waiting, failed) and the
style cards' colours. Presentation only: the state comes from ``OrderService``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["STAGE_TITLES", "more_offer", "page_numbers", "stage_rows", "style_cards"]

STAGE_TITLES = {
    "check": "Check your photos", "prepare": "Prepare training crops",
    "train": "Train your model", "preview": "Make a preview",
    "generate": "Generate headshots", "judge": "Judge every image",
    "deliver": "Deliver your selection"}
_FINAL_BAD = ("failed", "cancelled", "expired", "deleted")

# (backdrop, garment, shirt) colours of each catalog style's card: an illustration of the look
_LOOKS = {
    "academic-library": ("#7a5c3e", "#8b6f47", "#e8e0d0"),
    "black-and-white": ("#9a9a9a", "#222222", "#f2f2f2"),
    "casual-sweater": ("#b58a61", "#a4473a", "#a4473a"),
    "city-street": ("#3b4a63", "#5b4a3f", "#d9d2c5"),
    "corporate-grey": ("#8c8f94", "#3a3d42", "#ffffff"),
    "creative-colour": ("#167a7a", "#161616", "#161616"),
    "dark-low-key": ("#111111", "#2b2b2b", "#2b2b2b"),
    "doctor-white-coat": ("#cfe0e8", "#f7f7f7", "#bcd4ea"),
    "linkedin-warm": ("#d8c3a5", "#b5838d", "#b5838d"),
    "navy-blazer": ("#c9c3ba", "#1f2f4f", "#bcd4ea"),
    "office-environment": ("#a9bfb5", "#6c8fb3", "#6c8fb3"),
    "outdoor-natural": ("#5f8a4a", "#7b6a55", "#e6e0d4"),
    "tech-startup": ("#dfe4ea", "#4a5560", "#9aa5b1"),
    "white-background": ("#ffffff", "#2a2f36", "#e9ecef"),
}


def style_cards(catalog: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    cards = []
    for style in catalog:
        backdrop, garment, shirt = _LOOKS.get(style["id"], ("#9aa0a6", "#3a3d42", "#ffffff"))
        cards.append({**style, "backdrop_colour": backdrop, "garment_colour": garment,
                      "shirt_colour": shirt})
    return cards


def stage_rows(order: dict[str, Any], stages: Sequence[str]) -> list[dict[str, Any]]:
    """Each stage with its state: ``done``, ``running``, ``queued``, ``waiting`` (for the
    person's approval), ``failed`` or ``todo``; the running one carries its progress."""
    status, current = order["status"], order["stage"]
    index = stages.index(current) if current in stages else len(stages)
    error = order.get("error") or {}
    rows = []
    for i, stage in enumerate(stages):
        row: dict[str, Any] = {"id": stage, "title": STAGE_TITLES.get(stage, stage),
                               "percent": None, "note": ""}
        if status == "delivered" or i < index:
            row["state"] = "done"
        elif i > index or status == "collecting":
            row["state"] = "todo"
        elif status in _FINAL_BAD:
            row["state"] = "failed" if status == "failed" and error.get("stage", stage) == stage \
                else "stopped"
        elif status == "awaiting_approval":
            row["state"], row["note"] = "waiting", "waiting for your go-ahead on the preview"
        elif status == "queued":
            row["state"] = "queued"
            ahead = order.get("queue_position")
            row["note"] = "next in line" if not ahead else f"{ahead} order(s) ahead"
        else:
            row["state"] = "running"
            progress = order.get("progress")
            if progress and progress["total"]:
                row["percent"] = round(100 * progress["done"] / progress["total"])
                row["note"] = f"{progress['done']} of {progress['total']}"
                if progress["attempt"] > 1:
                    row["note"] += f" (attempt {progress['attempt']}, resumed)"
        rows.append(row)
    return rows


def eta_words(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    return f"about {round(seconds / 60)} min left"


def _day(when: str | None) -> str:
    return (when or "")[:10]


def more_offer(order: dict[str, Any], catalog_ids: Sequence[str]) -> dict[str, Any]:
    """Whether the gallery offers "more of a style" (a follow-up order on the kept model),
    for which styles and how many each; when not, why, in plain words. The service decides
    in the end (``more_of_style`` refuses what is not possible): this only says it first."""
    kept = order.get("kept_until") or {}
    settings = order.get("settings") or {}
    styles = [s for s in settings.get("styles") or () if s in catalog_ids]
    count = max(1, min(200, (settings.get("candidates") or 20) // max(1, len(styles))))
    why = ""
    if order["status"] != "delivered":
        why = "More of a style is offered once the order is delivered."
    elif kept.get("model") == "deleted":
        why = ("Your model was deleted per the retention schedule"
               + ("" if order.get("keep_model") else " (you did not ask to keep it)")
               + ", so more images of a style need a new order with new selfies.")
    elif kept.get("inputs") == "deleted":
        why = ("Your selfies were deleted per the retention schedule, so new images could not "
               "be checked for likeness to you: more of a style needs a new order.")
    elif not order.get("keep_model"):
        why = (f"Your model is not kept: it is deleted on {_day(kept.get('model'))} per the "
               "retention schedule. To order more of a style from it, tick 'Keep my model' on "
               "this order's privacy page before then.")
    elif not styles:
        why = "This order's style is not in the catalog, so there is no style to make more of."
    return {"can": not why, "why": why, "styles": styles if not why else [], "count": count}


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The pager's page links: the first, the last and ``around`` either side of the current
    one; ``None`` marks a gap (shown as "…")."""
    keep = {1, pages, *range(page - around, page + around + 1)}
    out: list[int | None] = []
    for n in range(1, pages + 1):
        if n in keep:
            out.append(n)
        elif out and out[-1] is not None:
            out.append(None)
    return out
