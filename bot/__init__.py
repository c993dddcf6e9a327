"""Query time: retrieve passages, compose a cited answer or abstain."""
