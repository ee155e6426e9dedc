"""Delivery fixtures: real photos stand in for generated candidates (a replay of what the
judge would hand over), one development signing identity per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from headshots.deliver import (
    CandidateRecord,
    LikenessCalibration,
    Selection,
    SigningIdentity,
    make_dev_identity,
)
from headshots.media import save_clean
from headshots.types import Reason


@pytest.fixture(scope="session")
def identity() -> SigningIdentity:
    return make_dev_identity()


@pytest.fixture(scope="session")
def candidate_files(tmp_path_factory, photos) -> dict[str, Path]:
    """The five real photos written as PNG candidates (what generate writes)."""
    folder = tmp_path_factory.mktemp("candidates")
    return {name: save_clean(px, folder / f"{name}.png") for name, px in photos.items()}


@pytest.fixture(scope="session")
def selection(candidate_files) -> Selection:
    """Three accepted and selected (one person), one accepted but not selected, two rejected."""
    f = candidate_files
    return Selection(
        candidates=(
            CandidateRecord(file=f["obama"], style="studio grey", seed=11, accepted=True,
                            scores={"likeness": 0.82}, selected=True, rank=2),
            CandidateRecord(file=f["obama2"], style="outdoor", seed=12, accepted=True,
                            scores={"likeness": 0.90}, selected=True, rank=1),
            CandidateRecord(file=f["obama3"], style="office", seed=13, accepted=True,
                            scores={"likeness": 0.70}, selected=True, rank=3),
            CandidateRecord(file=f["obama"], style="studio grey", seed=17, accepted=True,
                            scores={"likeness": 0.65}),
            CandidateRecord(file=f["biden"], style="office", seed=14, accepted=False,
                            reasons=(Reason.LOW_LIKENESS,), scores={"likeness": 0.21}),
            CandidateRecord(file=f["astronaut"], style="outdoor", seed=15, accepted=False,
                            reasons=(Reason.LOW_LIKENESS, Reason.BAD_HANDS),
                            scores={"likeness": None}),
        ),
        calibration=LikenessCalibration(
            references=3, baseline_distance=0.35, threshold=0.6, method="dlib ResNet distance"
        ),
    )
