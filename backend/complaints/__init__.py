"""Complaints and reports (投诉举报, seeds-spec P18): confidential complainants, prohibited-practice flags, 两非
reports with their rewards."""
