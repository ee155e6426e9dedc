"""The training plot: loss per step and likeness per checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_training"]


def plot_training(report: dict[str, Any], path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), dpi=100)
    losses = report["loss"]
    ax1.plot(range(1, len(losses) + 1), losses, lw=0.8, color="#999", label="training loss")
    evals = report.get("eval_loss", [])
    if evals:
        ax1.plot([e["step"] for e in evals], [e["loss"] for e in evals], "o-", color="#c0392b",
                 label="fixed evaluation batch")
    ax1.set_xlabel("step")
    ax1.set_ylabel("loss")
    ax1.set_title("Loss")
    ax1.legend(fontsize=8)
    cps = report["checkpoints"]
    steps = [c["step"] for c in cps if c["likeness"] is not None]
    values = [c["likeness"] for c in cps if c["likeness"] is not None]
    refs = report.get("validation", {}).get("references")
    against = {"held_out": " to held-out selfies", "training_crops": " to the training crops"}
    ax2.set_title("Likeness of styled portraits" + against.get(refs or "", ""), fontsize=11)
    ax2.set_xlabel("checkpoint step")
    ax2.set_ylabel("likeness (1 - identity distance)")
    if values:
        ax2.plot(steps, values, "o-", color="#2471a3")
        chosen = report["chosen_checkpoint"]
        for s, v in zip(steps, values, strict=True):
            if s == chosen:
                ax2.plot([s], [v], "*", ms=16, color="#e67e22", label=f"chosen: step {s}")
        ax2.legend(fontsize=8)
    else:
        ax2.text(0.5, 0.5, "no face found in any\nvalidation portrait\n(last checkpoint kept)",
                 ha="center", va="center", transform=ax2.transAxes, fontsize=11)
        ax2.set_xticks([c["step"] for c in cps])
        ax2.set_yticks([])
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
