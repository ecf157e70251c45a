"""wachat — your WhatsApp history as a small local language model."""

__version__ = "0.1.0"
