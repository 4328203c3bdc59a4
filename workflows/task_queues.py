"""Task queue names, one per kind of work, so workers can be scaled per queue."""

PLATFORM_TASK_QUEUE = "liuguan-platform"
CASES_TASK_QUEUE = "liuguan-cases"
