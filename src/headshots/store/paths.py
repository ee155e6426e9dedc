"""One module owns every path inside a run folder, so resume, purge and encryption agree.

A run folder looks like::

    RUN/
      intake/report.json  intake/sheet.png
      crops/0001.png ...
      train/checkpoint-000200/ ...  train/pytorch_lora_weights.safetensors  train/train_report.json
      preview/ ...
      candidates/<style>/<seed>.png + candidates/index.jsonl
      judge/report.json
      delivery/ ...
      state.json              stages finished so far (for resumable runs)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["RunPaths"]


@dataclass(frozen=True)
class RunPaths:
    root: Path

    @property
    def intake(self) -> Path:
        return self.root / "intake"

    @property
    def intake_report(self) -> Path:
        return self.intake / "report.json"

    @property
    def intake_sheet(self) -> Path:
        return self.intake / "sheet.png"

    @property
    def crops(self) -> Path:
        return self.root / "crops"

    @property
    def train(self) -> Path:
        return self.root / "train"

    def checkpoint(self, step: int) -> Path:
        return self.train / f"checkpoint-{step:06d}"

    @property
    def lora(self) -> Path:
        return self.train / "pytorch_lora_weights.safetensors"

    @property
    def train_report(self) -> Path:
        return self.train / "train_report.json"

    @property
    def preview(self) -> Path:
        return self.root / "preview"

    @property
    def candidates(self) -> Path:
        return self.root / "candidates"

    @property
    def candidates_index(self) -> Path:
        return self.candidates / "index.jsonl"

    @property
    def judge(self) -> Path:
        return self.root / "judge"

    @property
    def judge_report(self) -> Path:
        return self.judge / "report.json"

    @property
    def delivery(self) -> Path:
        return self.root / "delivery"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    def all_dirs(self) -> tuple[Path, ...]:
        return (self.intake, self.crops, self.train, self.preview, self.candidates, self.judge,
                self.delivery)
