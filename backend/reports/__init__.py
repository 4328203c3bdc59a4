"""Supervision (督导考核): the KPI catalogue with the norm's targets and each county's overrides, the cockpit per
level with its drill-down rows, statistical reports (统计报表) published as frozen versions, and the two-way
assessment between counties (双向考核).

- `kpis.py`: the catalogue (每项指标：代码、名称、分子、分母、默认目标、统计周期、依据), pure;
- `periods.py`: months, quarters, years and the family-planning statistical year (1 October – 30 September);
- `repository.py`: every KPI's rows as SQL (one definition serves the count and the drill-down), the targets,
  the aggregates the platform operator reads; `figures/` the statistical report's columns and their queries;
- `service.py`: the cockpit and the drill-down; `targets.py`: county overrides of targets;
  `reports.py` + `xlsx.py`: statistical reports, publishing and versions, files;
  `scoring.py` + `assessments.py`: assessment schemes, scores, publishing, contests; `overview.py`: the
  platform operator's county aggregates.
"""
