"""wachat."""
