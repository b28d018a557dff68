"""Celery tasks: thin wrappers that move data between the engine, the models and the bus."""
