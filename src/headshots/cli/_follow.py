"""``headshots run`` with a broker: the order's stages go to the workers, and this command
follows its progress from the database (the events every stage writes) until it waits for
approval or is final. Ctrl-C only stops following: the order goes on."""

from __future__ import annotations

import time
from typing import Any

import typer

from headshots.cli._common import say_error

STOP = ("awaiting_approval", "delivered", "failed", "cancelled", "expired", "deleted")


def broker_runner(workflow: Any) -> Any | None:
    """The Celery runner when HEADSHOTS_BROKER_URL is set; None runs the order in-process."""
    settings = workflow.store.settings
    if not settings.broker_url:
        return None
    from headshots.runners import CeleryRunner, make_celery

    return CeleryRunner(make_celery(settings), workflow)


class Follower:
    def __init__(self, workflow: Any, runner: Any, listener: Any, poll: float = 0.5) -> None:
        self.workflow, self.runner, self.listener, self.poll = workflow, runner, listener, poll
        self.after = 0  # the last event shown

    def __call__(self, order_id: str) -> Any:
        """Send the order's next stage and show events until the order stops moving."""
        from headshots.orders import read_events

        self.runner.submit(order_id)
        try:
            while True:
                # status first: the event that explains a status is written before it
                order = self.workflow.get(order_id)
                for event in read_events(self.workflow.store, order_id, self.after):
                    self.listener(event)
                    self.after = event.id or self.after
                if order.status in STOP:
                    return order
                time.sleep(self.poll)
        except KeyboardInterrupt:
            say_error(f"stopped following — order {order_id} goes on in the workers; "
                      "`headshots orders` shows it, and the same command follows it again")
            raise typer.Exit(130) from None
