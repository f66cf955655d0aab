"""The command line: options, German texts, what the terminal shows."""
