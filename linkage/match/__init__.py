"""The hub side: blocking, comparison, the Fellegi–Sunter model, clustering, incremental links."""
