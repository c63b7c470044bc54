"""One module per CLI command; see ``slapdesk.cli``."""
