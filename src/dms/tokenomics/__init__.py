"""tokenomics interface."""
