"""Developer tooling beside the product: evaluation, benchmarks, reports and fault trials."""
