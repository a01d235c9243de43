"""The demo hub builder: fixture agencies, users, policy, consents and linked people."""
