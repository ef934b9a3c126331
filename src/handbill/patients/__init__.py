"""Patients, their coverages, and the authorizations, prescriptions and referrals they hold."""
