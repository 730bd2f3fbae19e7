"""Allow ``python -m gitleague_client``, so a cron line can name its interpreter.

Also the ``gitleague-client`` command's entry point. It imports the CLI only
when called: extraction workers are started with ``spawn``, which re-imports
the module a console script names in every worker, and the CLI's imports
(click, requests, yaml...) cost each worker ~8 MB it never uses.
"""

from __future__ import annotations


def main() -> None:
    """Run the ``gitleague-client`` command line."""
    from gitleague_client.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
