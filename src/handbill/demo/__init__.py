"""The synthetic demo practice (``handbill demo``): see :mod:`handbill.demo.builder`."""
