"""Shared building blocks: the base model, application errors, background-task runtime."""
