"""Knowledge articles: two to four per product model, written from the repairs' root causes.

An article about a root cause cites a report that found it (``source_report_id``) when the
history has one; every model also gets its routine-maintenance checklist.
"""

from __future__ import annotations

from uuid import UUID

from server.demo import texts
from server.demo.context import Context
from server.demo.world import Catalogue
from server.demo.writer import Writer


def write_articles(
    ctx: Context, out: Writer, cat: Catalogue, examples: dict[tuple[str, str], UUID]
) -> None:
    ctx.reseed("knowledge")
    rng = ctx.rng
    for model in cat.models:
        spec = model.spec
        scenarios = texts.SCENARIOS[spec.skill]
        count = min(rng.randint(2, 4), len(scenarios) + 1)
        for scenario in scenarios[: count - 1]:
            updated = ctx.now - ctx.hours(24, 60 * 24)
            body = texts.ARTICLE_BODY.format(s=scenario)
            out.add(
                "knowledge_articles",
                {
                    "id": ctx.uuid(updated),
                    "product_model_id": model.id,
                    "title": texts.ARTICLE_TITLE.format(model=spec.name, cause=scenario.root_cause),
                    "body": body,
                    "root_cause_category": scenario.category,
                    "source_report_id": examples.get((spec.code, scenario.root_cause)),
                    "updated_at": updated,
                },
            )
        updated = ctx.now - ctx.hours(60 * 24, 300 * 24)
        parts = "、".join(p.name for p in model.common[:5])
        out.add(
            "knowledge_articles",
            {
                "id": ctx.uuid(updated),
                "product_model_id": model.id,
                "title": f"{spec.name} 日常保养要点",
                "body": texts.MAINTENANCE_BODY.format(parts=parts),
                "root_cause_category": "maintenance",
                "source_report_id": None,
                "updated_at": updated,
            },
        )
