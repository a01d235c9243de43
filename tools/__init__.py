"""Development tools that are not shipped in the wheel."""
