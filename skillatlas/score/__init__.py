"""Scores: course/job -> occupation alignment with tiers, and skill demand trends."""
