"""Eligibility and benefits before the visit: 270 out, 271 in, stored checks and the sandbox."""
