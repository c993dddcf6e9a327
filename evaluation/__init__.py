"""Question sets, answer-quality metrics, reports and benchmarks."""
