"""``python -m zoning``: the command line."""

from zoning.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
