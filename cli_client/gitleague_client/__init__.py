"""gitleague-client: push commits of local git repositories to GitLeague."""

__version__ = "0.2.0"
