"""Restaurant reservations: domain, services and AWS adapters shipped in the Lambda package."""
