"""Quality evaluation: extraction (Decorte), spans (SkillSpan) and occupation alignment."""
