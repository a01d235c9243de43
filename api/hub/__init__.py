"""The hub service: identity, the linkage store, policy, consent, views and audit over HTTP."""
