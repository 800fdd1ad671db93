"""Celery tasks of tracking (autodiscovered here): click ingestion and outbound deliveries."""

from .tasks_clicks import *  # noqa: F401,F403
from .tasks_outbound import *  # noqa: F401,F403
