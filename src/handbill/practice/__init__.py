"""Practices (the tenants), their locations, people, payers and enrolments."""
