"""Library logic without Qt: database, scanning, tags, index, search, tagging, jobs."""
