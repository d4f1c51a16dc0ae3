"""The simulated reviewer, and what review costs.

With real audio a person decides every row, so the loop's true cost is reviewer time. A row
costs its audio (listening once) plus a fixed decision time (``triage.reviewer.decision_seconds``).
The simulated reviewer (``triage.auto_approve``, the demo and the benchmarks) takes pending rows
in rank order, answers each with the drop's hidden reference, and stops when the next row would
pass ``budget_clips`` or ``budget_minutes``: the same accounting the review page shows a person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from asrloop.loop.review_queue import DEMO_REVIEWER, ReviewItem
from asrloop.records import ReviewEffort
from asrloop.settings.triage import ReviewerSettings


def row_seconds(item: ReviewItem, decision_seconds: float) -> float:
    """What deciding one row costs: its audio plus the decision."""
    return (item.duration or 0.0) + decision_seconds


def review_order(queue: Sequence[ReviewItem]) -> list[ReviewItem]:
    """Rows in the order a reviewer takes them: by rank, unranked rows after in file order."""
    positions = {item.id: n for n, item in enumerate(queue)}
    return sorted(
        queue,
        key=lambda i: (i.rank is None, i.rank or 0, positions[i.id]),
    )


def seconds_spent(queue: Iterable[ReviewItem], decision_seconds: float) -> float:
    """What the decided rows of ``queue`` cost, in seconds."""
    return sum(row_seconds(i, decision_seconds) for i in queue if i.decided)


def minutes_spent(queue: Iterable[ReviewItem], decision_seconds: float) -> float:
    return seconds_spent(queue, decision_seconds) / 60.0


def over_budget(rows: int, seconds: float, settings: ReviewerSettings) -> bool:
    """Whether ``rows`` decided rows costing ``seconds`` pass the budget."""
    if settings.budget_clips is not None and rows > settings.budget_clips:
        return True
    return settings.budget_minutes is not None and seconds > settings.budget_minutes * 60.0


def simulate_review(
    queue: Sequence[ReviewItem], references: Mapping[str, str], settings: ReviewerSettings
) -> list[ReviewItem]:
    """The queue after the simulated reviewer: pending rows, in rank order, get the hidden
    reference and are approved until the budget runs out (rows already decided count against
    it). Rows without a reference stay pending; the file order is kept."""
    rows = sum(item.decided for item in queue)
    seconds = seconds_spent(queue, settings.decision_seconds)
    answered: dict[str, ReviewItem] = {}
    for item in review_order(queue):
        text = references.get(item.id)
        if item.decided or text is None:
            continue
        cost = row_seconds(item, settings.decision_seconds)
        if over_budget(rows + 1, seconds + cost, settings):
            break
        rows, seconds = rows + 1, seconds + cost
        answered[item.id] = item.replace(reference=text, status="approved", reviewer=DEMO_REVIEWER)
    return [answered.get(item.id, item) for item in queue]


def review_effort(
    queue: Sequence[ReviewItem], strategy: str, decision_seconds: float
) -> ReviewEffort:
    return ReviewEffort(
        strategy=strategy,
        decided=sum(item.decided for item in queue),
        minutes=round(minutes_spent(queue, decision_seconds), 3),
        decision_seconds=decision_seconds,
        pending=sum(not item.decided for item in queue),
    )
