"""Outbox delivery: the events the pipeline announces, the notifiers (log, webhook), retries."""
