"""The Celery worker that trains networks with Descent's core."""
