"""What each `python -m models` command does: parse → config → service → print. models/cli.py
builds the parser and maps bad input to one line and exit status 2."""
