"""The core: parsing, datasets, stats, projects. Standard library + light deps only."""
