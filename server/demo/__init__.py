"""The deterministic demo data set: one Shanghai-like city of customers, engineers and history.

``python -m server seed [--scale N]`` loads it through :func:`seed_demo` into an empty database;
the server loads it on start when ``FIELDSYNC_SEED_DEMO`` is set and :func:`is_empty` says there
are no users yet. Every demo user's password is ``fieldsync-demo``.

At scale 1 (``--scale N`` multiplies everything but the catalogue, staff and warehouses):

- users: ``engineer1``…``engineer20`` (2-4 skills, a home base, a team), ``dispatcher1``,
  ``logistics1``, ``manager1``, ``admin`` — 24;
- 12 product models, 300 parts, 3 warehouses and a van per engineer (23 locations);
- 500 customers with 1-2 sites each (about 660), 1,500 assets installed over six years;
- 90 days of history: about 3,000 requests and jobs with 15,000 status events, 3,000 reports,
  2,500 signatures, 2,100 survey answers, 2,800 part usages, about 15 complaints, a few dozen
  repeat visits, 120 shipments; 6,000 stock movements and the 1,600 stock levels they sum to;
- today (09:30 local is "now"): 3-6 visits per engineer, a few in the next days, 40 unassigned
  jobs and 10 fresh requests for the dispatcher, open part requests and parcels on the road;
- 33 knowledge articles. About 43,000 rows in all; scale 100 is about 4.2 million.
"""

from server.demo.seeder import DEMO_PASSWORD, DatabaseNotEmpty, is_empty, seed_demo

__all__ = ["DEMO_PASSWORD", "DatabaseNotEmpty", "is_empty", "seed_demo"]
