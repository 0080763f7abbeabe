"""The outside world behind the ports: DynamoDB (`dynamodb/`: one store per aggregate on the
single table; `layout`: its keys and item names), the stream decoder (`stream`), EventBridge
(`publisher`: the stream relay), SES (`mailer`) and Powertools' idempotency and batch
processing (`consumers`).

May import: domain, services, boto3/botocore, Powertools. Never web."""
