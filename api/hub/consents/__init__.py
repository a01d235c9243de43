"""The consent registry of the hub (FHIR R4 Consent shaped): its table and its service."""
