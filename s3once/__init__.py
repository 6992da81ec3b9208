"""The `s3once` command-line tool: local runs, table setup and reports. Not deployed to Lambda."""
