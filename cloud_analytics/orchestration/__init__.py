"""Orchestration: jobs, schedules, sensors, the date-range planning and the runner.

One path: ``make run`` executes the same named jobs that sensors and schedules launch, over
the ranges the same planning functions (``ranges.py``) choose."""
