"""Stage gates: what a deal needs before it may enter a stage.

A gate is the stage's required fields and checkpoints, and those of every open stage
before it, so skipping a stage on the board does not skip its rules. Lost stages ask
only for the reason, which `deal_move_to_stage` checks itself.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from rapport.sales.models import GATE_FIELDS, Deal, Stage, StageKind


def gate_stages(stage: Stage) -> list[Stage]:
    """The stages whose requirements apply on entering ``stage``."""
    if stage.kind == StageKind.LOST:
        return []
    stages = list(Stage.objects.filter(pipeline_id=stage.pipeline_id))
    return [
        other
        for other in stages
        if other.pk == stage.pk or (other.kind == StageKind.OPEN and other.position < stage.position)
    ]


def gate_missing(deal: Deal, stage: Stage) -> list[str]:
    """What ``deal`` lacks to enter ``stage``, in words; empty when it may."""
    fields: list[str] = []
    gates = gate_stages(stage)
    for gate in gates:
        fields += [name for name in gate.required_fields if name in GATE_FIELDS and name not in fields]
    # The required checkpoints of all the gates in one read of the link table (a stage move
    # is timed to 30 ms, and a prefetch per stage costs several times this query's time).
    links = Stage.required_checkpoints.through.objects.filter(stage_id__in=[gate.pk for gate in gates])
    checkpoint_types = {link.checkpointtype_id: link.checkpointtype for link in links.select_related("checkpointtype")}
    missing = [str(GATE_FIELDS[name]) for name in fields if not _has(deal, name)]
    if checkpoint_types:
        # A deal being registered (no pk yet) has done no checkpoint.
        done = (
            set(
                deal.checkpoints.filter(type__in=checkpoint_types, done_at__isnull=False).values_list(
                    "type_id", flat=True
                )
            )
            if deal.pk is not None
            else set()
        )
        missing += [
            _("the “%(checkpoint)s” checkpoint done") % {"checkpoint": kind.name}
            for pk, kind in sorted(checkpoint_types.items(), key=lambda item: item[1].position)
            if pk not in done
        ]
    return missing


def _has(deal: Deal, name: str) -> bool:
    if name == "lines":
        return deal.pk is not None and deal.lines.exists()
    if name == "amount":
        return bool(deal.amount)
    return bool(getattr(deal, f"{name}_id" if name == "contact" else name))


def gate_message(stage: Stage, missing: list[str]) -> str:
    return _("To move to “%(stage)s” the deal needs: %(missing)s.") % {
        "stage": stage.name,
        "missing": ", ".join(missing),
    }
