"""Local stand-ins for AWS: embedded servers, the state kept between runs, the local runner."""
