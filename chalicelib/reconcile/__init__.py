"""Reconciliation from S3 Inventory: uploads whose notification never arrived, found in the
bucket's inventory report and re-driven through the pipeline (standard library and the core
only; the S3 and DynamoDB access is in `chalicelib/aws/`)."""
