"""s3-once: process each S3 upload exactly once in effect, fenced by DynamoDB conditional writes."""
