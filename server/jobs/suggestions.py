"""Which engineers to suggest for a job: skill, distance and current load, with the score shown.

Scoring (0-100, higher is better), for every *active* user with the engineer role:

    skill        = 1 if the job needs no skill or the engineer lists it, else 0
    proximity    = 1 / (1 + distance_km / 20)     geodesic km from home base to the job site;
                                                  0 when the engineer has no home base
    availability = 1 / (1 + open_jobs / 3)        open_jobs = jobs assigned to them and not yet
                                                  completed or cancelled (any date)
    score        = 60 * skill + 25 * proximity + 15 * availability

Why these weights: a skill match always wins (a matching engineer scores above 60, a
non-matching one at most 40), because sending the wrong trade costs a second visit. Among equals,
20 km (a cross-town drive) halves the proximity points and three open jobs halve the
availability points. Ties go to the nearer engineer, then by username, so the order is stable.
The dispatcher confirms; this only ranks. Each factor is returned so the ranking can be explained.
"""

from __future__ import annotations

from typing import Final
from uuid import UUID

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.models import User
from server.customers.models import Site
from server.geo import distance_km
from server.jobs.models import Job
from server.jobs.status import ACTIVE

SKILL_WEIGHT: Final = 60.0
PROXIMITY_WEIGHT: Final = 25.0
AVAILABILITY_WEIGHT: Final = 15.0
HALF_PROXIMITY_KM: Final = 20.0
HALF_AVAILABILITY_JOBS: Final = 3.0


class SuggestionOut(msgspec.Struct):
    engineer_id: UUID
    username: str
    display_name: str
    team: str
    skills: list[str]
    skill_match: bool
    distance_km: float | None
    open_jobs: int
    score: float


def score(skill_match: bool, km: float | None, open_jobs: int) -> float:
    proximity = 0.0 if km is None else 1.0 / (1.0 + km / HALF_PROXIMITY_KM)
    availability = 1.0 / (1.0 + open_jobs / HALF_AVAILABILITY_JOBS)
    total = (
        SKILL_WEIGHT * skill_match
        + PROXIMITY_WEIGHT * proximity
        + AVAILABILITY_WEIGHT * availability
    )
    return round(total, 2)


async def suggest(db: AsyncSession, job: Job, limit: int) -> list[SuggestionOut]:
    site = await db.get_one(Site, job.site_id)
    engineers = (
        (await db.execute(select(User).where(User.role == "engineer", User.is_active.is_(True))))
        .scalars()
        .all()
    )
    load_rows = await db.execute(
        select(Job.engineer_id, func.count())
        .where(Job.engineer_id.in_([u.id for u in engineers]), Job.status.in_(ACTIVE))
        .group_by(Job.engineer_id)
    )
    loads = {engineer_id: count for engineer_id, count in load_rows.tuples()}
    ranked: list[SuggestionOut] = []
    for user in engineers:
        match = not job.required_skill or job.required_skill in (user.skills or [])
        km = None
        if user.home_lat is not None and user.home_lon is not None:
            km = round(distance_km((user.home_lat, user.home_lon), (site.lat, site.lon)), 2)
        load = int(loads.get(user.id, 0))
        ranked.append(
            SuggestionOut(
                engineer_id=user.id,
                username=user.username,
                display_name=user.display_name,
                team=user.team,
                skills=list(user.skills or []),
                skill_match=match,
                distance_km=km,
                open_jobs=load,
                score=score(match, km, load),
            )
        )
    ranked.sort(
        key=lambda s: (
            -s.score,
            float("inf") if s.distance_km is None else s.distance_km,
            s.username,
        )
    )
    return ranked[:limit]
