#!/usr/bin/env python
"""Same as the `rapport` command."""

from rapport.cli import main

if __name__ == "__main__":
    main()
