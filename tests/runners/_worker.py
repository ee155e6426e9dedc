"""A real ``headshots worker``, optionally with a slowed or broken stage, for the tests:
``python -m tests.runners._worker [--delay S [--slow STAGE]] [--fail STAGE] -- <options>``.

``--delay`` sleeps S seconds at each progress report (of ``--slow STAGE`` only, if given), so
a test can kill it at a chosen point; ``--fail STAGE`` makes that stage raise what a GPU out
of memory raises, every time."""

from __future__ import annotations

import argparse
import time

from headshots.orders._context import StageContext
from headshots.orders._stages import STAGE_FUNCTIONS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--slow", help="slow only this stage (default: every stage)")
    parser.add_argument("--fail")
    parser.add_argument("rest", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.delay:
        original = StageContext.progress

        def slow(self: StageContext, done: int, total: int, message: str = "") -> None:
            if args.slow in (None, self.stage):
                time.sleep(args.delay)
            original(self, done, total, message)

        StageContext.progress = slow  # type: ignore[method-assign]
    if args.fail:
        def out_of_memory(ctx: StageContext) -> dict[str, object]:
            ctx.progress(0, 1, "loading")
            raise MemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

        STAGE_FUNCTIONS[args.fail] = out_of_memory
    from headshots.cli import main as headshots

    rest = [a for a in args.rest if a != "--"]
    headshots(["worker", *rest])


if __name__ == "__main__":
    main()
