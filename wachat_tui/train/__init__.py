"""Training: a separate process that speaks JSON-lines events. Nothing heavy imported here."""
