"""Stored, versioned access policy: drafts, publishing, what-if, explain, the policy in force."""
