"""Stored code tables: NCCI PTP pair edits and MUEs loaded from the official CMS files."""
