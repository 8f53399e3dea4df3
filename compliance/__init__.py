"""compliance: checks Russian industrial sites against government requirements."""
__version__ = "0.1.0"
