"""The `s3once` commands, one module each; `s3once.cli` registers them."""
