"""The outside world behind the ports: DynamoDB (`dynamodb`: the single table, its item
layout and transactions), the stream decoder (`stream`), EventBridge (`publisher`: the stream
relay), SES (`mailer`) and Powertools' idempotency and batch processing (`consumers`).

May import: domain, services, boto3/botocore, Powertools. Never web."""
