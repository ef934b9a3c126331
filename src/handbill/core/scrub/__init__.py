"""Scrub rules: small pure functions that read a claim and return findings."""
