"""The AWS adapters: every module that talks to DynamoDB or S3, and which AWS errors pass."""
