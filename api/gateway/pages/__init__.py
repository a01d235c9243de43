"""The responder page, served by the gateway: sign in, find a person, read their context."""
