"""SlapDesk: an offline music library you search by describing what you want to hear."""

__version__ = "0.1.0"
