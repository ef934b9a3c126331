"""Handbill: insurance billing for massage therapists and other hands-on practices."""

__version__ = "0.1.0"
