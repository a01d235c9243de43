"""The linkage store: encoded records, their encrypted context, bulk reads and writes."""
