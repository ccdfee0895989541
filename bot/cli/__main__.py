"""`python -m bot.cli`: the same as the `booking` command."""

from bot.cli import main

main()
