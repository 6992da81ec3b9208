"""`python -m s3once` runs the `s3once` command."""

from s3once.cli import main

main(prog_name="s3once")
