#!/usr/bin/env python3
"""Entry point: ``python run_audit.py <command> [options]`` (see ``--help``)."""

from audit.cli import main

if __name__ == "__main__":
    main()
