"""The hub's linking: incremental submit and resolve, re-link runs, the review queue, models."""
