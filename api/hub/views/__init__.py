"""A subject's context as policy and consent allow it, and break-glass grants."""
