"""Allow ``python -m gitleague_client``, so a cron line can name its interpreter."""

from gitleague_client.cli import main

if __name__ == "__main__":
    main()
