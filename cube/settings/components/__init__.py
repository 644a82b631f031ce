"""Settings per integration (Celery, DRF, storage, runners, CORS), each reading env through ..env."""
