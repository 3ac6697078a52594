"""Search index over courses, job postings, occupations and skills."""
