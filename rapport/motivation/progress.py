"""A target's progress: the fact against the figure, and the pace against the share of the period gone by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from rapport.motivation.metrics import AVERAGED
from rapport.motivation.models import Metric, Target
from rapport.motivation.periods import Period

DONE, AHEAD, BEHIND = "done", "ahead", "behind"


@dataclass(frozen=True)
class Progress:
    target: Target
    fact: Decimal
    today: date

    @property
    def period(self) -> Period:
        return Period(self.target.starts_on, self.target.ends_on)

    @property
    def percent(self) -> int:
        """The fact as a share of the target, for the bar (capped at 100; a zero target is met)."""
        if self.target.value <= 0:
            return 100
        return min(100, int(self.fact * 100 / self.target.value))

    @property
    def expected(self) -> Decimal:
        """Where the fact should be by the end of today: at an even pace for counts and sums; a score is not
        built up over the period, so it is expected at its target all along."""
        if self.target.metric in AVERAGED:
            return self.target.value
        return self.target.value * Decimal(str(self.period.elapsed_share(self.today)))

    @property
    def pace(self) -> str:
        if self.fact >= self.target.value:
            return DONE
        return AHEAD if self.fact >= self.expected else BEHIND

    @property
    def is_money(self) -> bool:
        return self.target.metric == Metric.REVENUE_WON
