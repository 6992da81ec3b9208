"""The core: the domain, its ports and the pipeline. Imports no boto3, botocore or chalice."""
