"""The pure coding core: money, code sets, units, edits, policy and scrub rules.

Nothing here imports Django or reads the clock; callers pass dates in (``as_of=``).
"""
