"""Visits and their session notes (SOAP), diagnoses and documented services."""
